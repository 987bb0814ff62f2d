# The error page shown to browsers (API errors stay English JSON).
# Reason phrases, by status code: the standard English ones.
errors-reason-400 = Bad Request
errors-reason-401 = Unauthorized
errors-reason-403 = Forbidden
errors-reason-404 = Not Found
errors-reason-409 = Conflict
errors-reason-413 = Payload Too Large
errors-reason-422 = Unprocessable Entity
errors-reason-429 = Too Many Requests
errors-reason-500 = Internal Server Error
errors-reason-502 = Bad Gateway
errors-reason-503 = Service Unavailable
errors-sign-in = Sign in
errors-back = Back to the stacks
# Messages the web layer words itself.
errors-unauthenticated = sign in first
errors-session-expired = your session has expired: sign in again
# $need and $have are role names (role-viewer, role-operator, role-admin).
errors-forbidden = this needs the { $need } role; you are signed in as { $have }
errors-csrf = missing or wrong CSRF token: reload the page and try again
errors-too-large = the request body is larger than the { $kib } KiB this endpoint accepts
errors-unsupported-media-type = expected Content-Type: { $expected }
errors-throttled = too many sign-in attempts: try again in { $seconds } s
errors-internal = something went wrong on the server; the log has the details
errors-invalid-many = { $count } fields are invalid
errors-no-page = There is no page at { $path }.
