# The Account page (one's own password and API tokens), the Users page,
# the audit log and the sign-in page.

## Account
accounts-account-title = Account
# Around the user's name, shown in bold between the two.
accounts-account-signed-in-before = Signed in as
accounts-account-signed-in-after = ({ $role }).
accounts-account-must-change = Your password was set by someone else: choose your own to go on.
accounts-account-new-token = Your new API token
accounts-account-new-token-once = Copy it now: it is shown this once, and only its hash is stored.
accounts-account-password = Password
accounts-account-current-password = Current password
accounts-account-new-password = New password
accounts-account-new-password-hint = At least 12 characters. Your other sessions end when it changes.
accounts-account-confirm-password = New password, again
accounts-account-change-password = Change password
accounts-account-password-changed = Your password is changed; your other sessions have ended.
accounts-account-passwords-differ = The new password and its confirmation differ.

## API tokens
accounts-tokens-title = API tokens
accounts-tokens-name = Name
accounts-tokens-name-placeholder = ci, laptop, grafana
accounts-tokens-days = Lasts (days)
accounts-tokens-create = Create token
# Around the command `hawaf token create --user NAME`.
accounts-tokens-viewers-before = Viewers ask an admin for a token (
accounts-tokens-viewers-after = ).
accounts-tokens-everyone = Everyone's tokens
accounts-tokens-yours = Your tokens
accounts-tokens-col-id = Id
accounts-tokens-col-user = User
accounts-tokens-col-name = Name
accounts-tokens-col-created = Created
accounts-tokens-col-last-used = Last used ({ $zone })
accounts-tokens-col-expires = Expires
accounts-tokens-expired = expired
accounts-tokens-revoke = Revoke
accounts-tokens-revoke-label = Revoke token { $id } ({ $name })
accounts-tokens-none = No tokens. Create one to use the API or the hawaf command line from a script.
accounts-tokens-never-used = never
accounts-tokens-never-expires = never
# $name is the token's name in quotes; $until a day.
accounts-tokens-created = Token { $name } created; it lasts until { $until }.
accounts-tokens-revoked = Token { $id } is revoked: its next use is refused.

## Users
accounts-users-title = Users
accounts-users-intro = Who may sign in, and with what role. A change of role or access ends that user's sessions at once; disabling also ends their API tokens. There is always one enabled admin.
accounts-users-password-for = Password for { $name }
accounts-users-password-once = Hand it over now: it is shown this once, and { $name } replaces it at the next sign-in.
accounts-users-col-user = User
accounts-users-col-role = Role
accounts-users-col-state = State
accounts-users-col-created = Created
accounts-users-col-actions = Actions
accounts-users-you = (you)
accounts-users-role-of = Role of { $name }
accounts-users-set-role = Set role
accounts-users-state-disabled = disabled
accounts-users-state-must-change = password reset
accounts-users-state-active = active
accounts-users-action-reset = Reset password
accounts-users-action-disable = Disable
accounts-users-action-enable = Enable
accounts-users-action-delete = Delete
accounts-users-add-title = Add a user
accounts-users-username = User name
accounts-users-username-hint = a-z, 0-9, '.', '_' and '-'. A password is generated; they choose their own at the first sign-in.
accounts-users-role = Role
accounts-users-add = Add user
accounts-users-added = { $name } is added; they choose their own password at the first sign-in.
# $role is the role's name (role-viewer, role-operator, role-admin).
accounts-users-role-changed = { $name } is now { $role }; their sessions ended.
accounts-users-disabled = { $name } is disabled; their sessions and tokens ended.
accounts-users-enabled = { $name } may sign in again.
accounts-users-deleted = { $name } is deleted, with their sessions and tokens.
accounts-users-reset = { $name }'s password is reset; they choose a new one at the next sign-in.
accounts-users-unknown-action = unknown action { $action }

## Refusals of the account rules, as the pages word them
accounts-refused-unknown-role = unknown role `{ $role }`: use viewer, operator or admin
accounts-refused-bad-username = user names are 1 to 64 characters of a-z, 0-9, '.', '_' and '-'
accounts-refused-weak-password = passwords need at least { $min } characters
accounts-refused-no-such-user = no user named { $name }
accounts-refused-last-admin = { $name } is the last enabled admin: make another user admin first
accounts-refused-no-such-token = no token { $id } of yours
accounts-refused-wrong-password = the current password is wrong
accounts-refused-same-password = the new password must differ from the current one
accounts-refused-bad-expiry = a token lasts 1 to { $max } days
accounts-refused-bad-token-name = token names are 1 to 64 printable characters

## Audit log
accounts-audit-title = Audit log
accounts-audit-intro = Every change made through hawaf: who, when, what, and how it ended. Newest first. A burst of identical refusals is one line with its count.
accounts-audit-filter-label = Filter the audit log
accounts-audit-who = Who
accounts-audit-stack = Stack or user
accounts-audit-action = Action
accounts-audit-action-placeholder = drill. or waf.switch
accounts-audit-outcome = Outcome
accounts-audit-outcome-any = any
accounts-audit-outcome-ok = ok
accounts-audit-outcome-refused = refused
accounts-audit-outcome-failed = failed
accounts-audit-filter = Filter
accounts-audit-show-all = Show all
# Before, between and after the examples `user.` and `drill.` (the
# between part keeps its space as a quoted text).
accounts-audit-action-hint = An action ending in a dot names a family:
accounts-audit-action-hint-between = { ", " }
accounts-audit-action-hint-after = .
accounts-audit-col-when = When ({ $zone })
accounts-audit-col-who = Who
accounts-audit-col-action = Action
accounts-audit-col-target = Target
accounts-audit-col-outcome = Outcome
accounts-audit-col-detail = Detail
# A folded burst of identical refusals: how many, since what time.
accounts-audit-burst = ×{ $count } since { $time }
accounts-audit-nothing-matches = Nothing matches.
accounts-audit-nothing-yet = Nothing recorded yet: every sign-in, change, build, switch and drill will be listed here.
accounts-audit-older = Older entries

## Sign in
accounts-login-title = Sign in
accounts-login-heading = Sign in to hawaf
accounts-login-expired = Your session has expired: sign in again.
accounts-login-username = User name
accounts-login-password = Password
accounts-login-submit = Sign in
accounts-login-wrong = Wrong user name or password.
accounts-login-disabled = This account is disabled: ask an admin.
accounts-tokens-none-viewer = No tokens.
