//! `hawaf waf …` and `hawaf fault …`: the per-node switch and faults.

use super::client::Client;
use super::{Failure, FaultArgs, WafAction, WafArgs};
use crate::contract::{FaultDone, FaultRequest, WafRequest, WafState};
use crate::i18n;

pub(super) async fn waf(args: WafArgs) -> Result<(), Failure> {
    let client = Client::new(&args.client)?;
    let body =
        WafRequest { enabled: matches!(args.action, WafAction::Enable), confirm: args.yes.then(|| args.stack.clone()) };
    let path = format!("/stacks/{}/nodes/{}/waf", args.stack, args.node);
    let (raw, answer): (_, WafState) = client.both(reqwest::Method::POST, &path, Some(&body)).await?;
    if args.client.json {
        out!("{raw:#}");
    } else {
        let node: [(&str, &dyn std::fmt::Display); 1] = [("node", &answer.node)];
        if answer.enabled {
            out!("{}", i18n::text_with("cli-waf-enabled", &node));
        } else {
            out!("{}", i18n::text_with("cli-waf-disabled", &node));
        }
    }
    Ok(())
}

pub(super) async fn fault(args: FaultArgs) -> Result<(), Failure> {
    let client = Client::new(&args.client)?;
    let body = FaultRequest { node: args.node, fault: args.fault, confirm: args.yes.then(|| args.stack.clone()) };
    let path = format!("/stacks/{}/faults", args.stack);
    let (raw, answer): (_, FaultDone) = client.both(reqwest::Method::POST, &path, Some(&body)).await?;
    if args.client.json {
        out!("{raw:#}");
    } else {
        out!("{}", i18n::text_with("cli-fault-done", &[("node", &answer.node), ("fault", &answer.fault)]));
    }
    Ok(())
}
