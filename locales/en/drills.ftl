# Failover drills: a stack's drills page, one drill's page and its report
# (SVG timeline, Markdown export), the safety lever and the webhooks page.

## Scenarios (by id, lowercased)
drills-scenario-d1-title = Balance
drills-scenario-d1-summary = No fault: every response comes through the external LB, left and right each serve about half.
drills-scenario-d2-title = Web node down
drills-scenario-d2-summary = Take ha-web-left down: service continues and only the other web server answers.
drills-scenario-d3-title = WAF node down
drills-scenario-d3-summary = Disable the WAF on one node, restore, then the other: service continues each time.
drills-scenario-d4-title = Both WAFs down
drills-scenario-d4-summary = Disable the WAF on both nodes: an expected outage, and full recovery on restore. Needs the typed confirmation.
drills-scenario-d5-title = AZ evacuation
drills-scenario-d5-summary = Take availability zone a out of both tiers at once (ha-utm-left and ha-web-left): zone b alone serves.
# A custom drill's method in words: "custom: ha-web-right isolate with ha-utm-left waf-off".
drills-custom-summary = custom: { $method }
drills-custom-with = { $before } with { $step }
drills-custom-then = { $before }, then { $step }

## States, verdicts, triggers (by their stored value)
drills-status-running = running
drills-status-finished = finished
drills-status-halted = halted
drills-status-aborted = aborted
drills-verdict-pass = pass
drills-verdict-fail = fail
drills-trigger-manual = manual
drills-trigger-api = api
drills-trigger-schedule = schedule
drills-run-started = started
drills-run-skipped = skipped
drills-delivery-pending = pending
drills-delivery-delivered = delivered
drills-delivery-failed = failed

## Phases and marks of a drill
drills-phase-baseline = baseline
drills-phase-detect = detect
drills-phase-hold = hold
drills-phase-recover = recover
drills-phase-verify = verify
drills-phase-total = total
drills-phase-starting = starting
drills-mark-fault = fault
drills-mark-detected = detected
drills-mark-restore = restore
drills-mark-recovered = recovered

## A stack's drills page
drills-list-page-title = Drills · { $stack }
drills-list-heading = failover drills
drills-list-intro = The seed's four checks and an AZ evacuation, run for real: a prober requests the external load balancer for the whole drill while faults are injected and undone. Every drill restores what it changed.
drills-run-title = Run a drill
drills-not-built = This stack is not built: build it before running a drill.
drills-scenario = Scenario
drills-badge-outage = outage
drills-confirm = Confirmation
drills-confirm-placeholder = type { $stack } for a drill that stops the site
drills-confirm-hint = Needed for D4, which takes every WAF node down.
drills-allow-drift = Run even if the stack has drifted
drills-allow-drift-hint = A drift check runs first; a drifted stack is refused unless this is ticked.
drills-settings = Rate and durations
drills-field-rate = Probes per second
drills-field-rate-hint = 1–50, default 20
drills-field-baseline = Baseline (ms)
drills-field-baseline-hint = before any fault; default 5000
drills-field-hold = Hold (ms)
drills-field-hold-hint = after detection; default 5000
drills-field-verify = Verify (ms)
drills-field-verify-hint = after recovery; default 5000
drills-start = Start drill
drills-not-started = The drill was not started: see the marked fields.
drills-whole-number = must be a whole number
drills-delete = Delete

drills-custom-title = Custom drills
drills-custom-intro = A hypothesis (an availability floor), a method of faults on named nodes, and a rollback that always runs. Custom drills appear above with the built-in ones.
drills-custom-not-saved = The drill was not saved:
drills-custom-name = Name
drills-custom-title-field = Title
drills-custom-floor = Availability floor (%)
drills-custom-method = Method, one step per line
drills-custom-method-hint = NODE ACTION [HOLD_MS]; actions: waf-off, stop-httpd, stop-instance, isolate; a leading + injects with the line before.
drills-custom-save = Save drill
drills-custom-bad-floor = a percentage, e.g. 99.5
drills-custom-bad-hold = a whole number of ms
drills-custom-bad-step = write NODE ACTION [HOLD_MS], e.g. ha-web-right isolate 5000

drills-schedules-title = Schedules
drills-schedules-intro = Drills on a five-field cron, in UTC. A slot that finds the stack unhealthy, drifted or already drilling, or the safety lever engaged, is skipped and says why; one missed while hawaf was not running is not run late.
drills-col-scenario = Scenario
drills-col-when = When
drills-col-next-runs = Next runs (UTC)
drills-col-latest = Latest
drills-col-actions = Actions
drills-suspended = suspended
drills-blackout = not { $days } { $from }–{ $to }
drills-blackout-any-day = any day
drills-resume = Resume
drills-suspend = Suspend
drills-schedule-not-added = The schedule was not added:
drills-cron = Cron (UTC)
drills-cron-hint = minute hour day-of-month month day-of-week
drills-blackouts = Blackouts (UTC), one per line
drills-schedule-add = Add schedule

drills-history-title = History
drills-history-intro = Each scenario's finished runs, oldest left (at most 30).
drills-history-runs = { $count ->
    [one] { $count } run
   *[other] { $count } runs
}
drills-chart-failed = failed requests
drills-chart-label = { $title } over the last { $count } runs, latest { $last }

drills-drills-title = Drills
drills-none = No drill has run on this stack yet.
drills-col-drill = Drill
drills-col-status = Status
drills-col-verdict = Verdict
drills-col-started = Started ({ $zone })
drills-col-trigger = Trigger
drills-col-by = By

## One drill's page
drills-show-page-title = Drill { $id } · { $stack }
drills-show-breadcrumb = drills
drills-export-json = Export JSON
drills-export-markdown = Export Markdown
# Around the start time: "Started by admin at <time> UTC."
drills-show-started-before = Started by { $user } at
drills-show-started-after = { $zone }.
drills-live-phase = phase
drills-live-probing = probing
drills-live-rate = at { $rate }/s
drills-live-not-restored = Some faults of this drill are not restored yet: see the audit log.
drills-halt = Halt and restore
drills-halting = Halting: restoring what the drill changed.
drills-timeline = Timeline
drills-legend = error · marks: fault, detected (out of service), restore, recovered (back in service and serving)
drills-verdict = Verdict
drills-regression = Regression
drills-comparison = against drill #{ $id }: MTTR { $mttr } (was { $previous_mttr }), failed requests { $failed } (was { $previous_failed })
drills-figures = Figures
drills-col-fault = Fault
drills-col-mttd = Time to detect
drills-col-mttr = Time to recover
drills-col-failed = Failed requests
drills-col-budget = Budget
drills-budget = Budget: { $budget }.
drills-budget-text = { $allowed } failed requests per fault (a { $window } ms detection window at { $rate }/s)
# Follows the budget's sentence: English starts with a space, Japanese does not.
drills-floor = { " " }Availability floor for this drill: { $floor }.
drills-col-phase = Phase
drills-col-requests = Requests
drills-col-availability = Availability
drills-col-errors = Errors

## The timeline's SVG
drills-svg-label = Probes over time by web server, with phases and fault marks
drills-svg-errors = errors
drills-svg-mark = { $kind } (round { $round }) at +{ $at } ms

## The Markdown export
drills-md-title = Drill { $id } — { $scenario } on { $stack }
drills-md-status = status: { $status }, verdict: { $verdict }
drills-md-no-verdict = none
drills-md-started = started by { $user } at { $at } ({ $zone }), finished { $finished }
drills-md-probes = probes: { $rate }/s to { $url }
drills-md-restored = restored: { $restored }
drills-md-restored-yes = yes
drills-md-restored-no = NO — pending restores remain
drills-md-times = time to detect: { $mttd }, time to recover: { $mttr }
drills-md-floor = availability floor: { $floor }% (budget { $allowed } failed requests per fault)
drills-md-note = note: { $note }
drills-md-phases = Phases
drills-md-col-phase = phase
drills-md-col-requests = requests
drills-md-col-availability = availability
drills-md-col-errors = errors
drills-md-verdict = Verdict

## The safety lever in the header
drills-lever-engaged-by = Engaged by { $user }
drills-lever-engaged-at = Engaged by { $user } at { $at }
drills-lever-stopped = Drills stopped: { $reason }
drills-lever-release = Release
drills-lever = Safety lever
drills-lever-reason = Why stop every drill?
drills-lever-engage = Engage: halt all drills

## Webhooks
drills-webhooks-title = Webhooks
# Around <code>X-Hawaf-Signature: sha256=…</code> and <code>text</code>.
drills-webhooks-intro-1 = Drill, health, drift and safety-lever events as JSON, signed with
drills-webhooks-intro-2 = (HMAC of the body with the secret). A body's
drills-webhooks-intro-3 = is one line a Slack incoming webhook shows as it is. A failing receiver is retried with back-off for 24 hours and never slows a drill.
drills-webhooks-added-by = · added by { $user }
drills-webhooks-nothing-sent = Nothing sent yet.
drills-webhooks-deliveries = Latest deliveries
drills-webhooks-col-event = Event
drills-webhooks-col-queued = Queued (UTC)
drills-webhooks-col-status = Status
drills-webhooks-col-attempts = Attempts
drills-webhooks-col-answer = Last answer
drills-webhooks-add-title = Add a webhook
drills-webhooks-url = URL
drills-webhooks-secret = Secret (16 characters or more; shown only now)
drills-webhooks-events = Events
drills-webhooks-add = Add webhook
# Empty lists say what to do next.
drills-webhooks-empty = No webhooks yet. Add one below to tell Slack, a pager or your own service when a drill ends, a node changes state or drift is found.
drills-schedules-empty = No schedules yet. Add one below to run a drill on a cron, such as every Monday at 03:00 UTC.
drills-schedules-empty-viewer = No schedules yet. An operator can add one to run drills regularly.
drills-none-next = Start one above: D1 (Balance) changes nothing and checks that both paths serve.
