# The build wizard: the eight steps, their cards, the build's header and
# the answers to its buttons.

wizard-page-title = Build { $name }
wizard-title-build = build
wizard-intro = The seed tutorial's eight console steps. Each step records every resource it creates, finds what already exists by its tags, and can be run again safely.

## Step titles (build::APPLY_STEPS / DESTROY_STEPS by number), per kind of build.
wizard-step-apply-1 = VPC
wizard-step-apply-2 = Subnets
wizard-step-apply-3 = Security groups
wizard-step-apply-4 = Web content servers
wizard-step-apply-5 = Internal load balancer
wizard-step-apply-6 = WAF nodes
wizard-step-apply-7 = External load balancer
wizard-step-apply-8 = WAF configuration
wizard-step-destroy-1 = VPC
wizard-step-destroy-2 = Subnets
wizard-step-destroy-3 = Security groups
wizard-step-destroy-4 = Web content servers
wizard-step-destroy-5 = Internal load balancer
wizard-step-destroy-6 = WAF nodes
wizard-step-destroy-7 = External load balancer
wizard-step-destroy-8 = WAF configuration

## A step's status (step_card), by its CSS class.
wizard-step-status-not-run = not run
wizard-step-status-pending = pending
wizard-step-status-running = running
wizard-step-status-succeeded = succeeded
wizard-step-status-failed = failed
wizard-step-status-skipped = skipped
wizard-step-status-interrupted = interrupted

## A build's status and kind (wizard_head).
wizard-build-status-running = running
wizard-build-status-succeeded = succeeded
wizard-build-status-failed = failed
wizard-build-status-interrupted = interrupted
wizard-kind-apply = apply
wizard-kind-destroy = destroy
wizard-kind-adopt = adopt

## Each step in the console's words.
wizard-doc-1 = VPC > Your VPCs > Create VPC, with an internet gateway attached.
wizard-doc-2 = VPC > Subnets > Create subnet, one per availability zone and tier, with route tables.
wizard-doc-3 = EC2 > Security Groups > Create security group, with inbound rules.
wizard-doc-4 = EC2 > Instances > Launch instances: the two web servers, with user data.
wizard-doc-6 = EC2 > Instances > Launch instances: the two WAF nodes; Elastic IPs > Allocate Elastic IP address and associate it.
wizard-doc-lb-classic = EC2 > Load Balancers > Create load balancer: a Classic Load Balancer, { $scheme }.
wizard-doc-lb-application = EC2 > Load Balancers > Create load balancer: an Application Load Balancer, { $scheme }, with a target group.
wizard-doc-lb-network = EC2 > Load Balancers > Create load balancer: a Network Load Balancer, { $scheme }, with a target group.
wizard-doc-8-utm = WebAdmin > Management > WebAdmin Settings > RESTful API: the token hawaf uses for Webserver Protection.
wizard-doc-8-sfos = Backup & firmware > API: turn the API on and allow hawaf's address; hawaf then adds the web server protection rule.
wizard-scheme-internal = internal
wizard-scheme-internet-facing = internet-facing

## The step card.
wizard-run-step = Run step
wizard-doc-in-console = In the console:
wizard-doc-aws = AWS documentation
wizard-doc-sophos = Sophos documentation
wizard-doc-for-step = for step { $step }
wizard-access-sfos = On each Sophos Firewall node: open its console and finish the set-up wizard, then turn the API on under Backup & firmware > API with hawaf's address in the allowed list. Then compare the certificate hawaf sees with the one the console shows, and give hawaf an administrator's user name and password: the certificate is pinned, and a changed one is refused from then on.
wizard-access-utm = The seed's first-time setup, on each node: open its console, set the hostname to the node's private IP, an admin password and the time zone; turn on the REST API and create an API token. Then compare the certificate hawaf sees with the one WebAdmin shows, and give hawaf the token: the certificate is pinned, and a changed one is refused from then on.
wizard-access-console = console
wizard-access-credentials-stored = credentials stored, certificate pinned
wizard-access-token-stored = token stored, certificate pinned
wizard-access-api-address = API address of { $node }
wizard-access-show-certificate = Show its certificate
wizard-calls = { $count } cloud call(s)
wizard-calls-at = At ({ $zone })
wizard-calls-operation = Operation
wizard-calls-target = Target
wizard-calls-outcome = Outcome
wizard-calls-ms = ms
wizard-outcome-ok = ok

## The build's header.
wizard-head-build = build { $id } by { $user } at
wizard-head-zone = { $zone }
wizard-head-interrupted = The server stopped while this build ran. Resume continues where it stopped, adopting what was created.
wizard-head-not-built = not built
wizard-head-nothing-yet = Nothing has run yet. Below is what each step will create.
wizard-resume = Resume
wizard-build-all = Build all
wizard-teardown-placeholder = type { $stack } to tear down
wizard-teardown-label = Type the stack name to confirm the teardown
wizard-teardown = Tear down

## Answers to the buttons.
wizard-started-build = Build started (build { $id }).
wizard-started-step = Step { $step } started (build { $id }).
wizard-started-resume = Resume started (build { $id }).
wizard-started-teardown = Teardown started (build { $id }).
wizard-teardown-confirm = type the stack's name, { $name }, to confirm the teardown
# An adoption runs the apply steps over what exists and creates nothing.
wizard-step-adopt-1 = VPC
wizard-step-adopt-2 = Subnets
wizard-step-adopt-3 = Security groups
wizard-step-adopt-4 = Web content servers
wizard-step-adopt-5 = Internal load balancer
wizard-step-adopt-6 = WAF nodes
wizard-step-adopt-7 = External load balancer
wizard-step-adopt-8 = WAF configuration
