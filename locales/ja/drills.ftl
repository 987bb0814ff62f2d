# フェイルオーバー訓練: スタックの障害訓練ページ、訓練 1 件のページとそのレポート
# (SVG タイムライン、Markdown エクスポート)、安全レバー、Webhook ページ。

## シナリオ (ID を小文字にしたもの)
drills-scenario-d1-title = 負荷分散
drills-scenario-d1-summary = 障害なし: すべてのレスポンスが外部ロードバランサーを経由し、left と right がそれぞれ約半分ずつ応答します。
drills-scenario-d2-title = Web ノードの停止
drills-scenario-d2-summary = ha-web-left を停止します: サービスは継続し、もう一方の Web サーバーのみが応答します。
drills-scenario-d3-title = WAF ノードの停止
drills-scenario-d3-summary = 一方のノードの WAF を無効にして復旧し、次にもう一方を無効にします: いずれの場合もサービスは継続します。
drills-scenario-d4-title = 両方の WAF の停止
drills-scenario-d4-summary = 両方のノードの WAF を無効にします: 想定どおりのサービス停止と、復旧時の完全な回復を確認します。確認の入力が必要です。
drills-scenario-d5-title = AZ 退避
drills-scenario-d5-summary = アベイラビリティーゾーン a を両方の層から同時に外します (ha-utm-left と ha-web-left): ゾーン b のみで応答します。
# カスタム訓練の手順: 「カスタム: ha-web-right isolate と同時に ha-utm-left waf-off」。
drills-custom-summary = カスタム: { $method }
drills-custom-with = { $before } と同時に { $step }
drills-custom-then = { $before }、次に { $step }

## ステータス、判定、トリガー (保存されている値ごと)
drills-status-running = 実行中
drills-status-finished = 完了
drills-status-halted = 中止
drills-status-aborted = 異常終了
drills-verdict-pass = 合格
drills-verdict-fail = 不合格
drills-trigger-manual = 手動
drills-trigger-api = API
drills-trigger-schedule = スケジュール
drills-run-started = 開始
drills-run-skipped = スキップ
drills-delivery-pending = 保留中
drills-delivery-delivered = 配信済み
drills-delivery-failed = 失敗

## 訓練のフェーズとマーク
drills-phase-baseline = ベースライン
drills-phase-detect = 検出
drills-phase-hold = 保持
drills-phase-recover = 回復
drills-phase-verify = 検証
drills-phase-total = 合計
drills-phase-starting = 開始中
drills-mark-fault = 障害
drills-mark-detected = 検出
drills-mark-restore = 復旧
drills-mark-recovered = 回復

## スタックの障害訓練ページ
drills-list-page-title = 障害訓練 · { $stack }
drills-list-heading = フェイルオーバー訓練
drills-list-intro = 元記事の 4 つの検証と AZ 退避を実際に実行します。障害の注入と復旧を行う間、プローバーが訓練全体を通して外部ロードバランサーにリクエストを送信します。すべての訓練は、変更した内容を元に戻します。
drills-run-title = 障害訓練の実行
drills-not-built = このスタックは構築されていません。障害訓練を実行する前に構築してください。
drills-scenario = シナリオ
drills-badge-outage = サービス停止
drills-confirm = 確認
drills-confirm-placeholder = サイトを停止する訓練では { $stack } と入力
drills-confirm-hint = すべての WAF ノードを停止する D4 で必要です。
drills-allow-drift = スタックにドリフトがあっても実行する
drills-allow-drift-hint = 最初にドリフトチェックが実行されます。ドリフトのあるスタックは、これを選択しない限り拒否されます。
drills-settings = レートと時間
drills-field-rate = 1 秒あたりのプローブ数
drills-field-rate-hint = 1～50、デフォルト 20
drills-field-baseline = ベースライン (ms)
drills-field-baseline-hint = 障害の前。デフォルト 5000
drills-field-hold = 保持 (ms)
drills-field-hold-hint = 検出の後。デフォルト 5000
drills-field-verify = 検証 (ms)
drills-field-verify-hint = 回復の後。デフォルト 5000
drills-start = 訓練を開始
drills-not-started = 障害訓練は開始されませんでした。マークされたフィールドを確認してください。
drills-whole-number = 整数で入力してください
drills-delete = 削除

drills-custom-title = カスタム訓練
drills-custom-intro = 仮説 (可用性の下限)、指定したノードへの障害の手順、および必ず実行されるロールバックで構成します。カスタム訓練は、組み込みの訓練と一緒に上に表示されます。
drills-custom-not-saved = 訓練は保存されませんでした:
drills-custom-name = 名前
drills-custom-title-field = タイトル
drills-custom-floor = 可用性の下限 (%)
drills-custom-method = 手順 (1 行に 1 ステップ)
drills-custom-method-hint = NODE ACTION [HOLD_MS]。アクション: waf-off、stop-httpd、stop-instance、isolate。先頭に + を付けると、前の行と同時に注入します。
drills-custom-save = 訓練を保存
drills-custom-bad-floor = パーセンテージで入力してください (例: 99.5)
drills-custom-bad-hold = ミリ秒単位の整数で入力してください
drills-custom-bad-step = NODE ACTION [HOLD_MS] の形式で入力してください (例: ha-web-right isolate 5000)

drills-schedules-title = スケジュール
drills-schedules-intro = 5 フィールドの cron (UTC) で障害訓練を実行します。スタックが異常、ドリフトあり、訓練実行中の場合、または安全レバーが作動中の場合、その回はスキップされ、理由が表示されます。hawaf が停止していた間の回は、後から実行されません。
drills-col-scenario = シナリオ
drills-col-when = 実行タイミング
drills-col-next-runs = 次回の実行 (UTC)
drills-col-latest = 最新
drills-col-actions = アクション
drills-suspended = 一時停止中
drills-blackout = { $days } { $from }–{ $to } を除く
drills-blackout-any-day = 毎日
drills-resume = 再開
drills-suspend = 一時停止
drills-schedule-not-added = スケジュールは追加されませんでした:
drills-cron = Cron (UTC)
drills-cron-hint = 分 時 日 月 曜日
drills-blackouts = 除外時間帯 (UTC)、1 行に 1 つ
drills-schedule-add = スケジュールを追加

drills-history-title = 履歴
drills-history-intro = 各シナリオの完了した実行です (左が最も古く、最大 30 件)。
drills-history-runs = { $count } 回
drills-chart-failed = 失敗したリクエスト
drills-chart-label = { $title }: 直近 { $count } 回の実行、最新 { $last }

drills-drills-title = 障害訓練
drills-none = このスタックではまだ障害訓練が実行されていません。
drills-col-drill = 訓練
drills-col-status = ステータス
drills-col-verdict = 判定
drills-col-started = 開始 ({ $zone })
drills-col-trigger = トリガー
drills-col-by = 実行者

## 訓練 1 件のページ
drills-show-page-title = 障害訓練 { $id } · { $stack }
drills-show-breadcrumb = 障害訓練
drills-export-json = JSON をエクスポート
drills-export-markdown = Markdown をエクスポート
# 開始時刻の前後: 「admin が <時刻> (UTC) に開始しました。」
drills-show-started-before = { $user } が
drills-show-started-after = ({ $zone }) に開始しました。
drills-live-phase = フェーズ
drills-live-probing = プローブ先
drills-live-rate = (毎秒 { $rate } 回)
drills-live-not-restored = この訓練の障害の一部がまだ復旧されていません。監査ログを確認してください。
drills-halt = 中止して復旧
drills-halting = 中止しています: 訓練で変更した内容を復旧しています。
drills-timeline = タイムライン
drills-legend = エラー · マーク: 障害、検出 (OutOfService)、復旧、回復 (InService に戻り応答を再開)
drills-verdict = 判定
drills-regression = 悪化
drills-comparison = 訓練 #{ $id } との比較: MTTR { $mttr } (前回 { $previous_mttr })、失敗したリクエスト { $failed } (前回 { $previous_failed })
drills-figures = 数値
drills-col-fault = 障害
drills-col-mttd = 検出までの時間
drills-col-mttr = 回復までの時間
drills-col-failed = 失敗したリクエスト
drills-col-budget = 許容数
drills-budget = 許容数: { $budget }。
drills-budget-text = 障害 1 回あたり失敗したリクエスト { $allowed } 件 (毎秒 { $rate } 回で { $window } ms の検出時間枠)
drills-floor = この訓練の可用性の下限: { $floor }。
drills-col-phase = フェーズ
drills-col-requests = リクエスト
drills-col-availability = 可用性
drills-col-errors = エラー

## タイムラインの SVG
drills-svg-label = Web サーバー別のプローブの推移 (フェーズと障害のマーク付き)
drills-svg-errors = エラー
drills-svg-mark = { $kind } (ラウンド { $round }) +{ $at } ms

## Markdown エクスポート
drills-md-title = 障害訓練 { $id } — { $stack } の { $scenario }
drills-md-status = ステータス: { $status }、判定: { $verdict }
drills-md-no-verdict = なし
drills-md-started = 開始: { $user }、{ $at } ({ $zone })、終了: { $finished }
drills-md-probes = プローブ: 毎秒 { $rate } 回、送信先 { $url }
drills-md-restored = 復旧済み: { $restored }
drills-md-restored-yes = はい
drills-md-restored-no = いいえ — 未完了の復旧が残っています
drills-md-times = 検出までの時間: { $mttd }、回復までの時間: { $mttr }
drills-md-floor = 可用性の下限: { $floor }% (許容数は障害 1 回あたり失敗したリクエスト { $allowed } 件)
drills-md-note = 注記: { $note }
drills-md-phases = フェーズ
drills-md-col-phase = フェーズ
drills-md-col-requests = リクエスト
drills-md-col-availability = 可用性
drills-md-col-errors = エラー
drills-md-verdict = 判定

## ヘッダーの安全レバー
drills-lever-engaged-by = { $user } が作動
drills-lever-engaged-at = { $user } が { $at } に作動
drills-lever-stopped = 障害訓練を停止中: { $reason }
drills-lever-release = 解除
drills-lever = 安全レバー
drills-lever-reason = すべての障害訓練を停止する理由
drills-lever-engage = 作動: すべての障害訓練を中止

## Webhook
drills-webhooks-title = Webhook
# <code>X-Hawaf-Signature: sha256=…</code> と <code>text</code> の前後。
drills-webhooks-intro-1 = 障害訓練、ヘルス、ドリフト、安全レバーのイベントを JSON で送信します。署名は
drills-webhooks-intro-2 = です (シークレットによる本文の HMAC)。本文の
drills-webhooks-intro-3 = は、Slack の Incoming Webhook がそのまま表示する 1 行です。受信側が失敗した場合は 24 時間バックオフしながら再試行され、障害訓練を遅らせることはありません。
drills-webhooks-added-by = · { $user } が追加
drills-webhooks-nothing-sent = まだ何も送信されていません。
drills-webhooks-deliveries = 最新の配信
drills-webhooks-col-event = イベント
drills-webhooks-col-queued = キュー投入 (UTC)
drills-webhooks-col-status = ステータス
drills-webhooks-col-attempts = 試行回数
drills-webhooks-col-answer = 最後の応答
drills-webhooks-add-title = Webhook の追加
drills-webhooks-url = URL
drills-webhooks-secret = シークレット (16 文字以上。表示されるのは今回のみです)
drills-webhooks-events = イベント
drills-webhooks-add = Webhook を追加
# 空の一覧では次に何をすればよいかを示す。
drills-webhooks-empty = Webhook はまだありません。下のフォームで追加すると、訓練の終了、ノードの状態変化、ドリフトの検出を Slack、ページャー、または独自のサービスに通知できます。
drills-schedules-empty = スケジュールはまだありません。下のフォームで追加すると、毎週月曜日 03:00 (UTC) などの cron に従って訓練を実行できます。
drills-schedules-empty-viewer = スケジュールはまだありません。オペレーターが追加すると、訓練を定期的に実行できます。
drills-none-next = 上のフォームから開始してください。D1 (負荷分散) は何も変更せず、両方の経路が応答することを確認します。
