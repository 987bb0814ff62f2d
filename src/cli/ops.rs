//! `hawaf waf …` and `hawaf fault …`: the per-node switch and faults.

use serde_json::json;

use super::client::Client;
use super::{Failure, FaultArgs, WafAction, WafArgs};

pub(super) async fn waf(args: WafArgs) -> Result<(), Failure> {
    let client = Client::new(&args.client)?;
    let mut body = json!({"enabled": matches!(args.action, WafAction::Enable)});
    if args.yes {
        body["confirm"] = json!(args.stack);
    }
    let answer = client
        .call(reqwest::Method::POST, &format!("/stacks/{}/nodes/{}/waf", args.stack, args.node), Some(body))
        .await?;
    if args.client.json {
        out!("{answer:#}");
    } else {
        out!("{}: WAF {}", args.node, if answer["enabled"] == true { "enabled" } else { "disabled" });
    }
    Ok(())
}

pub(super) async fn fault(args: FaultArgs) -> Result<(), Failure> {
    let client = Client::new(&args.client)?;
    let mut body = json!({"node": args.node, "fault": args.fault});
    if args.yes {
        body["confirm"] = json!(args.stack);
    }
    let answer = client.call(reqwest::Method::POST, &format!("/stacks/{}/faults", args.stack), Some(body)).await?;
    if args.client.json {
        out!("{answer:#}");
    } else {
        out!("{}: {} done", args.node, args.fault);
    }
    Ok(())
}
