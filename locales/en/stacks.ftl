# The stack pages: the list, the definition form (new, edit, adopt), the
# stack page, its drift panel, and a WAF node's certificate confirmation.

## Shared by several stack pages
stacks-full-stop = .
stacks-cancel = Cancel
stacks-see-plan = See the plan (JSON)
stacks-state-built = built
stacks-state-not-built = not built

## Notices after an action (?done=…)
stacks-notice-created = Stack { $name } created (version 1).
stacks-notice-saved = Saved a new version of { $name }.
stacks-notice-unchanged = Nothing changed, so no new version was made.
stacks-notice-deleted = Stack deleted.
stacks-notice-migrating = Migration of { $name } started: the build creates the new tiers beside the old ones, then D1 runs through them.
stacks-notice-migrated = The old load balancers are removed: the migration is finished.
stacks-notice-replacing = Replacing { $name }'s WAF nodes with Sophos Firewall, one at a time: the report below follows it (reload).
stacks-notice-accepted = Took the live values into a new version of { $name }: check drift again to see it in sync.

## The list
stacks-list-title = Stacks
stacks-list-new = New stack
stacks-list-warnings = warnings
stacks-col-name = Name
stacks-col-provider = Provider
stacks-col-region = Region
stacks-col-vpc = VPC
stacks-col-version = Version
stacks-col-state = State
stacks-col-score = Score
stacks-col-score-title = Resilience score: the latest drill of each scenario, weighted and fading with age
stacks-col-updated = Updated ({ $zone })
stacks-empty-title = No stacks yet
stacks-empty-text = A stack is one HA-WAF deployment: an internet-facing load balancer, two WAF nodes in two availability zones, an internal load balancer and two web servers.
stacks-empty-first = Define your first stack
stacks-empty-first-after = — it starts from the seed tutorial's values.

## The first-run checklist
stacks-checklist-title = Getting started
stacks-checklist-done = ✓ done
stacks-checklist-todo = to do
stacks-checklist-define = Define a stack
stacks-checklist-define-text = Start from the tutorial's values: VPC, subnets, instances, load balancers.
stacks-checklist-build = Build it
stacks-checklist-build-text = The wizard runs the tutorial's eight steps and shows every cloud call.
stacks-checklist-watch = Watch it
stacks-checklist-watch-text = Its page shows both load balancers' instances and the WAF switches live; switch a WAF node off and back to see a transition.
stacks-checklist-drill = Run a drill
stacks-checklist-drill-text = D1 proves the site serves; D2 and D3 take a node down and time the failover.

## The definition form
stacks-form-new-title = New stack
stacks-form-edit-title = Edit { $name }
stacks-form-new-intro = Starts from the seed tutorial's topology. Nothing is created in the cloud until you build it. Built it by hand already?
stacks-form-adopt-link = Adopt an existing stack
stacks-form-edit-intro = Saving makes a new version; builds record which version they applied.
stacks-form-errors-title = { $count ->
    [one] One field needs attention
   *[other] { $count } fields need attention
}
stacks-form-errors-text = nothing was saved, and everything you typed is kept below.
stacks-form-save = Save new version
stacks-form-create = Create stack
stacks-form-optional = { $name } (optional)
stacks-form-admin-only = only an admin may set or change this: it aims the server's AWS calls
stacks-form-duplicate = a stack named { $name } already exists: choose another name
stacks-form-general = General
stacks-form-general-intro = The stack name tags every resource (hawaf:stack) and cannot change later.
stacks-field-name = Stack name
stacks-field-name-hint = lowercase letters, digits and hyphens; up to 32
stacks-field-provider = Provider
stacks-field-region = AWS region
stacks-field-region-hint = e.g. us-east-1
stacks-field-profile = AWS profile
stacks-field-profile-hint = optional; default credential chain when empty
stacks-field-endpoint = Endpoint URL
stacks-field-endpoint-hint = optional; an emulator such as moto
stacks-form-network = Network
stacks-form-network-intro = Step 1 creates the VPC with an internet gateway.
stacks-field-vpc-cidr = VPC CIDR
stacks-field-vpc-cidr-hint = /16 to /28
stacks-field-vpc-name = VPC name
stacks-field-subnet-mode = Subnet mode
stacks-field-admin-cidr = Admin CIDR
stacks-field-admin-cidr-hint = who may reach SSH (22) and UTM WebAdmin (4444)
stacks-form-subnets = Subnets
stacks-form-subnets-intro = Step 2. Each tier spans two availability zones. Leave lbext-a/b empty to put the external LB in the public subnets, as the seed does.
stacks-form-col-cidr = CIDR
stacks-form-col-az = Availability zone
stacks-field-cidr = CIDR
stacks-field-az = AZ
stacks-form-instances = Instances
stacks-form-instances-intro = Steps 4 and 6. WAF nodes need fixed private IPs (the seed pins them by hand); web servers may leave theirs empty.
stacks-form-col-name = Name
stacks-form-col-type = Instance type
stacks-form-col-ami = AMI
stacks-form-col-ip = Private IP
stacks-field-instance-name = Name
stacks-field-instance-type = Type
stacks-field-instance-ami = AMI
stacks-field-instance-ip = Private IP
stacks-form-waf = WAF appliance
stacks-form-waf-intro = Step 8 configures it through its API: Sophos UTM 9 (the tutorial's, end of life on 30 June 2026) through its REST API, or Sophos Firewall through its XML API. The WAF nodes' AMI must boot that appliance (on the lab: ami-0123456789abcdef0 for UTM 9, ami-05f05f05f05f05f05 for Sophos Firewall).
stacks-field-appliance = Appliance
stacks-form-lbs = Load balancers
stacks-form-lbs-intro = Listener on port 80 to port 80 of each instance: HTTP, or TCP through a network load balancer. Classic is the tutorial's; AWS now recommends application or network load balancers.
stacks-field-lb-external = External LB (internet-facing)
stacks-field-lb-name-hint = 1–32 letters, digits, hyphens
stacks-field-lb-external-kind = External LB type
stacks-field-lb-internal = Internal LB
stacks-field-lb-internal-kind = Internal LB type
stacks-form-sgs = Security groups
stacks-form-sgs-intro = Step 3 creates them with the seed's rules: 80 from the tier in front, 22 and 4444 from the admin CIDR.
stacks-field-sg-lbext = External LB
stacks-field-sg-lbext-hint = tcp/80 from 0.0.0.0/0
stacks-field-sg-utm = WAF nodes
stacks-field-sg-utm-hint = tcp/80 from the external LB, tcp/4444 from the admin CIDR
stacks-field-sg-lbint = Internal LB
stacks-field-sg-lbint-hint = tcp/80 from the WAF nodes
stacks-field-sg-web = Web servers
stacks-field-sg-web-hint = tcp/80 from the internal LB, tcp/22 from the admin CIDR
stacks-form-health = Health check
stacks-form-health-intro = Both load balancers use it. AWS limits: interval 5–300 s, timeout 2–60 s and below the interval, thresholds 2–10.
stacks-field-hc-target = Target
stacks-field-hc-target-hint = e.g. HTTP:80/index.html
stacks-field-hc-interval = Interval (s)
stacks-field-hc-timeout = Timeout (s)
stacks-field-hc-healthy = Healthy threshold
stacks-field-hc-unhealthy = Unhealthy threshold

## Adopting a stack built by hand
stacks-adopt-title = Adopt an existing stack
stacks-adopt-intro = Built it by hand in the console, following the tutorial? Enter the names you gave things there (the VPC's Name tag, subnet CIDRs, security group names, instance Name tags, load balancer names): hawaf looks for them and changes nothing until you type the stack's name to adopt it. Adopting writes tags only.
stacks-adopt-found = What hawaf found
stacks-adopt-found-all = What hawaf found: everything, once
stacks-adopt-caption = Each resource of the definition and what was found for it
stacks-adopt-col-resource = Resource
stacks-adopt-col-status = Status
stacks-adopt-col-id = Id
stacks-adopt-col-looked-for = Looked for
stacks-adopt-col-tags = Tags to write
stacks-adopt-status-found = found
stacks-adopt-status-missing = missing
stacks-adopt-status-ambiguous = ambiguous
stacks-adopt-status-owned = owned
stacks-adopt-status-mismatch = mismatch
stacks-adopt-confirm-label = Type the stack's name to adopt it
stacks-adopt-not-adoptable = Not everything was found exactly once as defined: correct the names above (or the resources in the console), then look again. Nothing has been changed.
stacks-adopt-look = Look for it
stacks-adopt-look-again = Look again
stacks-adopt-button = Adopt
stacks-adopt-name-required = the name hawaf will know the stack by is required
stacks-adopt-mistyped = Type the stack's name, { $name }, exactly to adopt it: nothing was adopted.
stacks-adopt-changed = Something changed since the last look: nothing was adopted. See below.

## The stack page
stacks-adopted = adopted
stacks-adopted-title = Taken over { $at } { $zone } from a stack built by hand: its teardown deletes what hawaf did not create
stacks-build-wizard = Build wizard
stacks-build-start = Build…
stacks-failover-drills = Failover drills
stacks-export-cfn = Export CloudFormation
stacks-edit-definition = Edit definition
stacks-tier-external-label = External load balancer health
stacks-tier-internal-label = Internal load balancer health
stacks-transitions = Transitions ({ $zone })
stacks-state-title = State
stacks-not-built-text = Nothing exists in the cloud for this stack yet.
stacks-open-wizard = Open the build wizard
stacks-endpoints = Endpoints
stacks-score-title = Resilience score
stacks-score-intro = The latest drill of each scenario, weighted by what it proves; a pass counts fully for 30 days and fades to nothing by 90.
stacks-score-caption = What the score is made of
stacks-score-col-scenario = Scenario
stacks-score-col-weight = Weight
stacks-score-col-latest = Latest
stacks-score-col-age = Age
stacks-score-col-counts = Counts
stacks-verdict-pass = pass
stacks-verdict-fail = fail
stacks-score-never-run = never run
stacks-score-age-days = { $days } d
stacks-definition-summary = Definition (v{ $version }): network, subnets, instances, security groups
stacks-network = Network
stacks-network-provider = Provider
stacks-network-vpc = VPC
stacks-network-subnet-mode = Subnet mode
stacks-subnet-mode-protected = web subnets private behind a NAT in public-a
stacks-subnet-mode-tutorial = all subnets public, one route table to the internet gateway
stacks-network-admin-cidr = Admin CIDR
stacks-network-waf = WAF appliance
stacks-network-lb-external = External LB
stacks-lb-external-value = { $lb } (internet-facing, { $subnets })
stacks-network-lb-internal = Internal LB
stacks-lb-internal-value = { $lb } (internal, web-a, web-b)
stacks-network-health = Health check
stacks-health-value = { $target } every { $interval } s, timeout { $timeout } s, healthy after { $healthy }, unhealthy after { $unhealthy }
stacks-subnets = Subnets
stacks-subnets-col-subnet = Subnet
stacks-subnets-col-cidr = CIDR
stacks-subnets-col-az = AZ
stacks-subnets-col-holds = Holds
stacks-used-by-waf = WAF node
stacks-used-by-waf-lbext = WAF node, external LB
stacks-used-by-web = web server, internal LB
stacks-used-by-lbext = external LB
stacks-instances = Instances
stacks-instances-col-role = Role
stacks-instances-col-name = Name
stacks-instances-col-type = Type
stacks-instances-col-ami = AMI
stacks-instances-col-subnet = Subnet
stacks-instances-col-ip = Private IP
stacks-ip-by-aws = assigned by AWS
stacks-sgs = Security groups
stacks-sgs-col-group = Group
stacks-sgs-col-for = For
stacks-sgs-col-ingress = Ingress
stacks-sg-for-lbext = external LB
stacks-sg-for-utm = WAF nodes
stacks-sg-for-lbint = internal LB
stacks-sg-for-web = web servers
stacks-sg-rule = { $port } from { $source }
stacks-versions = Versions
stacks-version-by = by { $by } at
stacks-version-zone = { $zone }
stacks-audit-link = Audit log for { $name }
stacks-appliance-title = WAF appliance
stacks-appliance-utm9 = The WAF nodes run Sophos UTM 9, past its end of life (30 June 2026). hawaf can replace them with Sophos Firewall one at a time: the other node serves alone meanwhile, as in drill D3, and a prober counts what each node's absence costs.
stacks-appliance-image = Sophos Firewall AMI
stacks-appliance-image-lab = the lab's own
stacks-appliance-replace = Replace the WAF nodes
stacks-appliance-run = Run { $id }:
stacks-run-status-running = running
stacks-run-status-succeeded = succeeded
stacks-run-status-failed = failed
stacks-run-status-waiting = waiting
stacks-run-status-interrupted = interrupted
stacks-appliance-started = Started { $at } by { $by }, image
stacks-appliance-saved = ; saved as version { $version }
stacks-appliance-caption = Each node's replacement
stacks-appliance-col-node = Node
stacks-appliance-col-status = Status
stacks-appliance-col-instance = Instance
stacks-appliance-col-served-by = Served by
stacks-appliance-col-failed = Failed requests
stacks-node-status-pending = pending
stacks-node-status-replacing = replacing
stacks-node-status-done = done
stacks-node-status-failed = failed
stacks-node-status-waiting = waiting
stacks-failed-of = { $failed } of { $total }
stacks-migration-title = Load balancer generation
stacks-migration-pending = A migration awaits its finish. The old load balancers still serve their DNS names:
stacks-pending-tier = { $tier } tier:
stacks-pending-beside = (old) beside
stacks-finish-label-before = Once clients use the new DNS names, type
stacks-finish-label-after = to remove the old load balancers
stacks-finish-button = Finish migration
stacks-and = and
stacks-classic-text = { $count ->
    [one] The { $tiers } tier is a Classic Load Balancer, which AWS calls previous generation. hawaf can move it blue/green: the new load balancer is built beside the old one, D1 runs through it, and the old one is removed only when you finish.
   *[other] The { $tiers } tiers are a Classic Load Balancer, which AWS calls previous generation. hawaf can move them blue/green: the new load balancer is built beside the old one, D1 runs through it, and the old one is removed only when you finish.
}
stacks-migrate-to = Move to
stacks-migrate-start = Start migration
stacks-delete-title = Delete this stack
stacks-delete-built = Tear the stack down first: it still owns { $count } live resource(s).
stacks-delete-label-before = Type
stacks-delete-label-after = to delete the definition and all its versions
stacks-delete-button = Delete stack
stacks-delete-confirm = Type the stack's name, { $name }, to confirm the deletion.

## The drift panel
stacks-drift-title = Drift
stacks-drift-status-in-sync = in sync
stacks-drift-status-drifted = drifted
stacks-drift-status-unknown = unknown
stacks-drift-checked = last checked { $at } { $zone }
stacks-drift-never-checked = not checked yet
stacks-drift-check-now = Check now
stacks-drift-reconcile = Reconcile
stacks-drift-reconcile-title = Build only the steps that own what drifted
stacks-drift-not-checked = Not checked: { $error }
stacks-drift-plan = What Reconcile will do ({ $calls ->
    [one] { $calls } call
   *[other] { $calls } calls
})
stacks-drift-plan-cannot = What Reconcile will do ({ $calls ->
    [one] { $calls } call
   *[other] { $calls } calls
}, { $cannot } left as it is)
stacks-drift-cannot = Not put back by any step:
stacks-drift-plan-hint = It checks again first; the build log then shows every call it made.
stacks-drift-caption = What differs from the definition
stacks-drift-col-resource = Resource
stacks-drift-col-state = State
stacks-drift-col-property = Property
stacks-drift-col-expected = Expected
stacks-drift-col-actual = Actual
stacks-drift-state-modified = modified
stacks-drift-state-deleted = deleted
stacks-drift-state-added = added
stacks-drift-gone = no longer exists
stacks-drift-unmanaged = carries the stack's tag but no build made it
stacks-drift-take = Take live values
stacks-drift-take-title = Save a new version of the definition with the live values
stacks-drift-in-sync-count = { $count } resources match the definition.

## A WAF node's certificate, before its API credential is saved
stacks-access-presents = { $node } presents the certificate with SHA-256
stacks-access-compare = Compare it with WebAdmin's HTTPS certificate before you go on.
stacks-access-admin-label = API administrator of { $node }
stacks-access-password = Password
stacks-access-password-label = Password of the API administrator of { $node }
stacks-access-save-credentials = It matches: pin it and save the credentials
stacks-access-token = REST API token
stacks-access-token-label = REST API token of { $node }
stacks-access-save-token = It matches: pin it and save the token
stacks-access-saved = { $node }: certificate pinned and credentials saved; run step 8.
# The score's rating in words beside its colour (80 and up, 40 and up, below).
stacks-score-good = good
stacks-score-fair = fair
stacks-score-poor = poor
