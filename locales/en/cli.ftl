# The `hawaf` command line's own sentences. Table headers in capitals, JSON
# output, values from the server (its error messages, stack, step and phase
# names, statuses) and clap's help texts are not here: they stay as they are.
# Lines are printed without a final full stop; `hawaf: ` before errors and
# the indentation of sub-lines are added by the code.

## Output and secrets
cli-stdout-failed = cannot write to standard output: { $error }
cli-secret-lost = cannot show the new secret ({ $error }); it is not stored in clear, so create another
cli-server-stopped = server stopped: { $error }

## The API client
cli-no-token = no API token: set HAWAF_TOKEN or pass --token (create one with `hawaf token create --user NAME`)
cli-unreachable = cannot reach { $url }: { $error }
cli-no-message = no message
cli-unexpected-answer = the server's answer to { $path } is not what this hawaf expects: { $error }

## Files given on the command line
cli-file-unreadable = cannot read { $file }: { $error }
cli-file-not-json = { $file } is not valid JSON: { $error }
cli-definition-not-object = the definition file must hold a JSON object
cli-drill-not-definition = { $file } is not a drill definition: { $error }

## Prefixes
cli-note = note: { $note }
cli-warning = warning: { $warning }

## hawaf db migrate-from-sqlite
cli-db-not-postgres = the target { $db } is not PostgreSQL: give it as --db postgres://… (or HAWAF_DB)
cli-db-not-sqlite-file = { $file } is not an SQLite database file
cli-db-copied = copied { $total } rows into { $db } (row counts checked)
cli-db-sealed-secrets = Sealed secrets were copied as they are: start every replica with HAWAF_SECRET_KEY set to the contents of { $file }

## hawaf user, hawaf token
# Roles in sentences (the ROLE column of `user list` keeps the stored value).
cli-role-viewer = viewer
cli-role-operator = operator
cli-role-admin = admin
# $what comes from the database layer, e.g. "user olivia".
cli-already-exists = { $what } already exists
cli-password-unreadable = cannot read the password from stdin: { $error }
cli-user-created = created { $role } { $name }
cli-user-created-with-password = created { $role } { $name } with password { $password } (to be changed at the first sign-in)
cli-user-role-changed = { $name } is now { $role }; their sessions ended
cli-user-disabled = { $name } is disabled; their sessions and tokens ended
cli-user-enabled = { $name } may sign in again
cli-user-deleted = deleted { $name }
cli-password-generated = { $name }'s new password is { $password } (to be changed at the next sign-in)
cli-password-reset = { $name }'s password is reset (to be changed at the next sign-in)
cli-token-revoked = token { $id } revoked

## hawaf waf, hawaf fault
cli-waf-enabled = { $node }: WAF enabled
cli-waf-disabled = { $node }: WAF disabled
cli-fault-done = { $node }: { $fault } done

## hawaf stack new, show
cli-stack-created = created stack { $name } (version { $version })
cli-state-built = built
cli-state-not-built = not_built
# `stack show`: a label column 10 wide, then the values.
cli-show-stack = stack     { $name } (version { $version }, { $state })
cli-show-provider = provider  { $provider } { $region }
cli-show-vpc = vpc       { $cidr } ({ $mode })
cli-show-subnet = subnet    { $key } { $cidr } { $az }
cli-show-instance = instance  { $role } { $name } { $type } { $ip }
cli-show-health = health    { $target } interval { $interval } timeout { $timeout } healthy { $healthy } unhealthy { $unhealthy }
cli-show-warning = warning   { $field }: { $message }

## hawaf stack destroy, adopt
cli-destroy-needs-yes = a teardown deletes every resource of { $name }: add --yes to confirm
cli-adopt-not-adoptable = { $name } cannot be adopted as defined: fix what is not found, then run again
cli-adopted = adopted { $name }: build { $build } recorded it; it is watched and checked for drift from now on
cli-adopt-dry-run = dry run: add --yes to adopt { $name }

## hawaf stack health
cli-tier-external = external
cli-tier-internal = internal
cli-health-tier = { $lb } ({ $tier }): { $in_service } of { $total } instances in service
cli-health-instance = { $name } { $id } { $state } since { $since } { $reason }
cli-waf-state-enabled = enabled
cli-waf-state-disabled = disabled
cli-waf-state-unknown = unknown
cli-health-waf = WAF { $node } { $state } since { $since }

## Following a build
# The word after "3/8" on the progress bar.
cli-build-progress-steps = steps
cli-build-kind-apply = apply
cli-build-kind-destroy = destroy
cli-build-kind-adopt = adopt
cli-build-succeeded = { $kind } build { $id } of { $stack } succeeded
cli-build-status-running = running
cli-build-status-succeeded = succeeded
cli-build-status-failed = failed
cli-build-status-interrupted = interrupted
cli-build-failed = build { $id } { $status }: { $error }
cli-no-error-recorded = no error recorded

## hawaf stack migrate
cli-finish-needs-yes = finishing removes { $name }'s old load balancers: clients still on their DNS names lose the site; add --yes
cli-migration-removed = removed { $list }
cli-plan-only = plan only: add --yes to start
cli-appliance-started = replacing { $name }'s WAF nodes with Sophos Firewall, one at a time: run { $run }
cli-migration-started = migration of { $name } started: version { $version }, build { $build }; D1 runs through the new tiers after it
cli-run-not-reported = run { $run } is not reported
cli-appliance-node-done = { $node }: { $status } ({ $failed } of { $requests } requests failed meanwhile)
cli-run-ended = run { $run } { $status }: { $error }
cli-plan-tier = { $tier } tier: { $from_name } ({ $from_kind }) -> { $to_name } ({ $to_kind })
cli-plan-awaiting = awaiting finish: { $tier } tier, old { $previous } (now { $kind } { $current })
cli-plan-refusal = cannot start: { $reason }

## hawaf drill
cli-drill-pass-yes = { $message } (pass --yes)
cli-drill-started = drill { $id } started: { $scenario } on { $stack }
cli-drill-phase = phase { $phase }
cli-drill-mark = { $kind } (round { $round })
cli-drill-status-running = running
cli-drill-status-finished = finished
cli-drill-status-halted = halted
cli-drill-status-aborted = aborted
cli-verdict-pass = pass
cli-verdict-fail = fail
cli-drill-ended = drill { $id } { $status }: verdict { $verdict }
cli-no-verdict = none
cli-drill-halting = drill { $id }: halting; it restores what it changed
cli-drill-summary = drill { $id } { $scenario } on { $stack }: { $status }, verdict { $verdict }
cli-drill-times = time to detect { $mttd } ms, time to recover { $mttr } ms
# $restored is true or false.
cli-drill-restored = restored { $restored }
cli-drill-needs-yes = (stops the site: needs --yes)
cli-drill-step-then = then { $node } { $action }
cli-drill-step-then-hold = then { $node } { $action } for { $ms } ms
cli-drill-step-with = with { $node } { $action }
cli-drill-step-with-hold = with { $node } { $action } for { $ms } ms
cli-drill-problem = problem: { $problem }

## hawaf schedule
cli-schedule-next = next { $at }
cli-schedule-blackout = blackout { $days } { $from }-{ $to } UTC
cli-every-day = every day
cli-schedule-drill = drill { $id }
cli-schedule-deleted = deleted schedule { $id }

## hawaf lever
cli-lever-halted = halted drill { $id }
cli-lever-engaged = engaged by { $user }: { $reason }
cli-lever-released = released: drills may run
