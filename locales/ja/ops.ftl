# スタックページの運用ビュー: トポロジー、2 つのロードバランサー層、
# WAF スイッチと障害注入のあるノード、タイムライン。

## ロードバランサー層。
ops-tier-external = 外部ロードバランサー
ops-tier-internal = 内部ロードバランサー
ops-tier-summary = { $total } 個中 { $in_service } 個のインスタンスが正常 (InService)
ops-tier-no-data = ヘルスデータはまだありません
ops-tier-waiting-note = ロードバランサーにインスタンスが登録されると、ここにヘルスが表示されます。
ops-tier-waiting-before-link = 進行状況は
ops-tier-waiting-link = 構築ウィザード
ops-tier-waiting-after-link = で確認できます。
ops-col-instance = インスタンス
ops-col-id = インスタンス ID
ops-col-state = 状態
ops-col-reason = 理由
ops-col-since = 状態の開始時刻 ({ $zone })
ops-no-health-data = ヘルスデータはまだありません。

## 実行中の構築の状況 (まだ表示するものがないパネル向け)。
ops-build-at-step-progress = 構築 { $build } はステップ { $step } ({ $title }) を実行中です: { $progress }。
ops-build-at-step = 構築 { $build } はステップ { $step } ({ $title }) を実行中です。
ops-build-starting = 構築 { $build } を開始しています。

## ロードバランサー (AWS API の値) と WAF ノードが報告する状態。
ops-state-in-service = 正常 (InService)
ops-state-out-of-service = 異常 (OutOfService)
ops-state-unknown = 不明 (Unknown)
ops-waf-enabled = 有効
ops-waf-disabled = 無効
ops-waf-unknown = 不明

## ロードバランサーが示す理由 (DescribeInstanceHealth、DescribeTargetHealth)。
ops-reason-registering = インスタンスの登録はまだ進行中です。
ops-reason-unhealthy = インスタンスのヘルスチェックが、連続して UnhealthyThreshold 回以上失敗しました。
ops-reason-instance-state = インスタンスは { $state } 状態です。
ops-reason-target-state = ターゲットは { $state } 状態です。
ops-reason-transient = 一時的なエラーが発生しました。しばらくしてからもう一度お試しください。
ops-reason-initial-checks = 初回のヘルスチェックを実行中です
ops-reason-checks-failed = ヘルスチェックに失敗しました
ops-reason-codes = ヘルスチェックが次のコードで失敗しました: [{ $codes }]
ops-reason-timed-out = リクエストがタイムアウトしました
ops-reason-lb-unreadable = ロードバランサーを読み取れませんでした

## タイムライン。
ops-timeline-empty = 記録された状態の変化はまだありません。
ops-timeline-tier-external = 外部
ops-timeline-tier-internal = 内部
ops-timeline-tier-waf = WAF

## ノードパネル。
ops-nodes-title = ノード
ops-margins-label = 各層に残っている経路
ops-margin-waf = WAF 層
ops-margin-web = Web 層
ops-margin-summary = { $total } 経路中 { $serving } 経路が稼働中
ops-margin-note = { $node }: { $why }
ops-margin-separator = {"、"}
ops-hold-waf-off = WAF がオフ
ops-hold-httpd-stopped = httpd が停止中
ops-hold-instance-stopped = インスタンスが停止中
ops-hold-isolated = 隔離中
ops-path-out-of-service = ロードバランサーで異常 (OutOfService)
ops-path-not-reported = ロードバランサーから正常 (InService) と報告されていません
ops-col-node = ノード
ops-col-private-ip = プライベート IP
ops-col-waf = WAF (ノードから読み取り)
ops-col-actions = アクション
ops-lifecycle-title = Sophos ライフサイクルポリシー
ops-eol-on = { $year }年{ $month }月{ $day }日にサポート終了
ops-eol-past = サポート終了済み ({ $year }年{ $month }月{ $day }日)
ops-ha-warning = UTM HA ペアの一部です (ha.mode { $mode }): 障害訓練は拒否されます
ops-since = { $time } ({ $zone }) 以降
ops-error-since = { $time } ({ $zone }) 以降不明: { $error }
ops-confirm-placeholder = 最後の経路ならスタック名
ops-confirm-waf-label = { $node } の層の最後の WAF ノードを停止することを確認するには、スタック名を入力します
ops-confirm-fault-label = { $node } の層の最後の経路を停止することを確認するには、スタック名を入力します
ops-disable-waf = WAF を無効化
ops-enable-waf = WAF を有効化
ops-fault-label = { $node } に注入する障害
ops-inject = 注入

## トポロジー図。
ops-topo-label = スタックのトポロジー: 外部ロードバランサー、WAF ノード 2 台、内部ロードバランサー、Web サーバー 2 台
ops-topo-az = AZ { $az }
ops-topo-internet = インターネット
ops-topo-internet-facing = インターネット向け
ops-topo-internal = 内部
ops-topo-in-service = { $in_service }/{ $total } 正常
ops-topo-no-data = データなし
ops-topo-in-service-state = 正常
ops-topo-out-of-service-state = 異常
ops-topo-unknown-state = 不明
ops-topo-node-state = { $state } · WAF { $waf }
ops-topo-waiting = 最初のヘルスチェックの取得を待機中
ops-topo-not-built = 未構築: 図は計画を示しています
ops-topo-polled = 取得時刻 { $time } ({ $zone })

## ボタンへの応答、エンドポイント、エラー。
ops-waf-now-enabled = { $node }: WAF を有効にしました (ノードから読み戻した値)。
ops-waf-now-disabled = { $node }: WAF を無効にしました (ノードから読み戻した値)。
ops-fault-done = { $node }: { $fault } を実行しました。
ops-endpoint-dns = { $name } の DNS 名
ops-endpoint-from-host = { $name } (このホストから)
ops-endpoint-console = { $node } のコンソール
ops-no-fragment = スタックページにフラグメント { $which } はありません
ops-topo-lb-degraded = { $in_service }/{ $total } 正常: 縮退
ops-topo-lb-down = { $in_service }/{ $total } 正常: 停止
