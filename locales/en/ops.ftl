# The operations view on the stack page: topology, the two load-balancer
# tiers, the nodes with their WAF switch and faults, the timeline.

## Load balancer tiers.
ops-tier-external = External load balancer
ops-tier-internal = Internal load balancer
ops-tier-summary = { $in_service } of { $total } instances in service
ops-tier-no-data = no health data yet
ops-tier-waiting-note = Health shows here once the load balancer has instances.
ops-tier-waiting-before-link = {""}
ops-tier-waiting-link = Follow it in the build wizard
ops-tier-waiting-after-link = .
ops-col-instance = Instance
ops-col-id = ID
ops-col-state = State
ops-col-reason = Reason
ops-col-since = Since ({ $zone })
ops-no-health-data = No health data yet.

## What a running build is doing, for panels with nothing to show yet.
ops-build-at-step-progress = Build { $build } is at step { $step }, { $title }: { $progress }.
ops-build-at-step = Build { $build } is at step { $step }, { $title }.
ops-build-starting = Build { $build } is starting.

## States as the load balancer (AWS API values) and the WAF node report them.
ops-state-in-service = InService
ops-state-out-of-service = OutOfService
ops-state-unknown = Unknown
ops-waf-enabled = enabled
ops-waf-disabled = disabled
ops-waf-unknown = unknown

## Reasons the load balancer gives (DescribeInstanceHealth, DescribeTargetHealth).
ops-reason-registering = Instance registration is still in progress.
ops-reason-unhealthy = Instance has failed at least the UnhealthyThreshold number of health checks consecutively.
ops-reason-instance-state = Instance is in { $state } state.
ops-reason-target-state = Target is in the { $state } state.
ops-reason-transient = A transient error occurred. Please try again later.
ops-reason-initial-checks = Initial health checks in progress
ops-reason-checks-failed = Health checks failed
ops-reason-codes = Health checks failed with these codes: [{ $codes }]
ops-reason-timed-out = Request timed out
ops-reason-lb-unreadable = the load balancer could not be read

## Timeline.
ops-timeline-empty = No transitions recorded yet.
ops-timeline-tier-external = external
ops-timeline-tier-internal = internal
ops-timeline-tier-waf = waf

## Nodes panel.
ops-nodes-title = Nodes
ops-margins-label = Paths each tier still has
ops-margin-waf = WAF tier
ops-margin-web = Web tier
ops-margin-summary = { $serving } of { $total } { $total ->
    [one] path
   *[other] paths
} serving
ops-margin-note = { $node }: { $why }
ops-margin-separator = {", "}
ops-hold-waf-off = WAF switched off
ops-hold-httpd-stopped = httpd stopped
ops-hold-instance-stopped = instance stopped
ops-hold-isolated = isolated
ops-path-out-of-service = out of service on its load balancer
ops-path-not-reported = not reported in service by its load balancer
ops-col-node = Node
ops-col-private-ip = Private IP
ops-col-waf = WAF (read from the node)
ops-col-actions = Actions
ops-lifecycle-title = Sophos lifecycle policy
ops-eol-on = end of life on { $day } { $month_name } { $year }
ops-eol-past = past end of life ({ $day } { $month_name } { $year })
ops-ha-warning = in a UTM HA pair (ha.mode { $mode }): drills are refused
ops-since = since { $time } ({ $zone })
ops-error-since = unknown since { $time } ({ $zone }): { $error }
ops-confirm-placeholder = stack name, if last path
ops-confirm-waf-label = Type the stack name to confirm taking the last WAF node of { $node }'s tier down
ops-confirm-fault-label = Type the stack name to confirm taking the last path of { $node }'s tier down
ops-disable-waf = Disable WAF
ops-enable-waf = Enable WAF
ops-fault-label = Fault for { $node }
ops-inject = Inject

## Topology picture.
ops-topo-label = Topology of the stack: external load balancer, two WAF nodes, internal load balancer, two web servers
ops-topo-az = AZ { $az }
ops-topo-internet = Internet
ops-topo-internet-facing = internet-facing
ops-topo-internal = internal
ops-topo-in-service = { $in_service }/{ $total } in service
ops-topo-no-data = no data
ops-topo-in-service-state = InService
ops-topo-out-of-service-state = OutOfService
ops-topo-unknown-state = Unknown
ops-topo-node-state = { $state } · WAF { $waf }
ops-topo-waiting = waiting for the first health poll
ops-topo-not-built = not built: the picture shows the plan
ops-topo-polled = polled { $time } ({ $zone })

## Answers to the buttons, endpoints, errors.
ops-waf-now-enabled = { $node }: WAF enabled (read back from the node).
ops-waf-now-disabled = { $node }: WAF disabled (read back from the node).
ops-fault-done = { $node }: { $fault } done.
ops-endpoint-dns = { $name } DNS name
ops-endpoint-from-host = { $name } from this host
ops-endpoint-console = { $node } console
ops-no-fragment = stack pages have no fragment { $which }
ops-topo-lb-degraded = { $in_service }/{ $total } in service: degraded
ops-topo-lb-down = { $in_service }/{ $total } in service: down
