# コマンドライン `hawaf` 自身が出力する文。大文字の表の見出し、JSON 出力、
# サーバーから届く値 (エラーメッセージ、スタック名・ステップ名・フェーズ名、
# ステータス)、clap のヘルプはここに含めず、そのままにします。
# 行末に「。」は付けません (文が 2 つ続くときは間に「。」)。エラーの前の
# `hawaf: ` とサブ行の字下げはコードが付けます。

## 出力とシークレット
cli-stdout-failed = 標準出力に書き込めません: { $error }
cli-secret-lost = 新しいシークレットを表示できません ({ $error })。平文では保存されないため、もう一度作成してください
cli-server-stopped = サーバーが停止しました: { $error }

## API クライアント
cli-no-token = API トークンがありません。HAWAF_TOKEN を設定するか、--token を指定してください (作成するには `hawaf token create --user NAME`)
cli-unreachable = { $url } に接続できません: { $error }
cli-no-message = メッセージなし
cli-unexpected-answer = { $path } に対するサーバーの応答が、この hawaf の想定と異なります: { $error }

## コマンドラインで指定したファイル
cli-file-unreadable = { $file } を読み取れません: { $error }
cli-file-not-json = { $file } は有効な JSON ではありません: { $error }
cli-definition-not-object = 定義ファイルには JSON オブジェクトを記述してください
cli-drill-not-definition = { $file } は障害訓練の定義ではありません: { $error }

## 接頭辞
cli-note = 注記: { $note }
cli-warning = 警告: { $warning }

## hawaf db migrate-from-sqlite
cli-db-not-postgres = 移行先 { $db } は PostgreSQL ではありません。--db postgres://… (または HAWAF_DB) で指定してください
cli-db-not-sqlite-file = { $file } は SQLite データベースファイルではありません
cli-db-copied = { $db } に { $total } 行をコピーしました (行数を確認済み)
cli-db-sealed-secrets = 暗号化されたシークレットはそのままコピーしました。すべてのレプリカを、HAWAF_SECRET_KEY に { $file } の内容を設定して起動してください

## hawaf user、hawaf token
# 文中のロール (user list の ROLE 列は保存されている値のまま)。
cli-role-viewer = 閲覧者
cli-role-operator = オペレーター
cli-role-admin = 管理者
# $what はデータベース層の英語 (例: "user olivia")。
cli-already-exists = { $what } は既に存在します
cli-password-unreadable = 標準入力からパスワードを読み取れません: { $error }
cli-user-created = { $role }のユーザー { $name } を作成しました
cli-user-created-with-password = { $role }のユーザー { $name } をパスワード { $password } で作成しました (初回のサインイン時に変更が必要です)
cli-user-role-changed = { $name } のロールを{ $role }に変更しました。このユーザーのセッションは終了しました
cli-user-disabled = { $name } を無効にしました。このユーザーのセッションとトークンは終了しました
cli-user-enabled = { $name } は再びサインインできます
cli-user-deleted = { $name } を削除しました
cli-password-generated = { $name } の新しいパスワードは { $password } です (次回のサインイン時に変更が必要です)
cli-password-reset = { $name } のパスワードをリセットしました (次回のサインイン時に変更が必要です)
cli-token-revoked = トークン { $id } を取り消しました

## hawaf waf、hawaf fault
cli-waf-enabled = { $node }: WAF を有効にしました
cli-waf-disabled = { $node }: WAF を無効にしました
cli-fault-done = { $node }: { $fault } を実行しました

## hawaf stack new、show
cli-stack-created = スタック { $name } を作成しました (バージョン { $version })
cli-state-built = 構築済み
cli-state-not-built = 未構築
# stack show: ラベルの列 (表示幅 16)、続いて値。
cli-show-stack = スタック        { $name } (バージョン { $version }、{ $state })
cli-show-provider = プロバイダー    { $provider } { $region }
cli-show-vpc = VPC             { $cidr } ({ $mode })
cli-show-subnet = サブネット      { $key } { $cidr } { $az }
cli-show-instance = インスタンス    { $role } { $name } { $type } { $ip }
cli-show-health = ヘルスチェック  { $target } 間隔 { $interval } タイムアウト { $timeout } 正常のしきい値 { $healthy } 異常のしきい値 { $unhealthy }
cli-show-warning = 警告            { $field }: { $message }

## hawaf stack destroy、adopt
cli-destroy-needs-yes = 破棄すると { $name } のすべてのリソースが削除されます。確認するには --yes を指定してください
cli-adopt-not-adoptable = { $name } は定義どおりには取り込めません。見つからないものを修正してから、もう一度実行してください
cli-adopted = { $name } を取り込みました。構築 { $build } に記録され、今後は監視とドリフトのチェックの対象になります
cli-adopt-dry-run = ドライラン: { $name } を取り込むには --yes を指定してください

## hawaf stack health
cli-tier-external = 外部
cli-tier-internal = 内部
cli-health-tier = { $lb } ({ $tier }): { $total } 個中 { $in_service } 個のインスタンスが正常 (InService)
cli-health-instance = { $name } { $id } { $state } { $since } 以降 { $reason }
cli-waf-state-enabled = 有効
cli-waf-state-disabled = 無効
cli-waf-state-unknown = 不明
cli-health-waf = WAF { $node } { $state } { $since } 以降

## 構築の追跡
# 進行状況バーの「3/8」の後の語。
cli-build-progress-steps = ステップ
cli-build-kind-apply = 適用
cli-build-kind-destroy = 破棄
cli-build-kind-adopt = 取り込み
cli-build-succeeded = { $stack } の構築 { $id } ({ $kind }) が成功しました
cli-build-status-running = 実行中
cli-build-status-succeeded = 成功
cli-build-status-failed = 失敗
cli-build-status-interrupted = 中断
cli-build-failed = 構築 { $id } は{ $status }で終了しました: { $error }
cli-no-error-recorded = エラーは記録されていません

## hawaf stack migrate
cli-finish-needs-yes = 完了すると { $name } の古いロードバランサーが削除され、その DNS 名を使っているクライアントはサイトに接続できなくなります。--yes を指定してください
cli-migration-removed = { $list } を削除しました
cli-plan-only = 計画のみ: 開始するには --yes を指定してください
cli-appliance-started = { $name } の WAF ノードを 1 台ずつ Sophos Firewall に置き換えています: 実行 { $run }
cli-migration-started = { $name } の移行を開始しました: バージョン { $version }、構築 { $build }。その後、D1 を新しい層経由で実行します
cli-run-not-reported = 実行 { $run } は報告されていません
cli-appliance-node-done = { $node }: { $status } (その間に { $requests } 件中 { $failed } 件のリクエストが失敗)
cli-run-ended = 実行 { $run } は { $status } で終了しました: { $error }
cli-plan-tier = { $tier }層: { $from_name } ({ $from_kind }) -> { $to_name } ({ $to_kind })
cli-plan-awaiting = 完了待ち: { $tier }層、古い { $previous } (現在は { $kind } { $current })
cli-plan-refusal = 開始できません: { $reason }

## hawaf drill
cli-drill-pass-yes = { $message } (--yes を指定してください)
cli-drill-started = 障害訓練 { $id } を開始しました: { $stack } で { $scenario }
cli-drill-phase = フェーズ { $phase }
cli-drill-mark = { $kind } (ラウンド { $round })
cli-drill-status-running = 実行中
cli-drill-status-finished = 完了
cli-drill-status-halted = 中止
cli-drill-status-aborted = 異常終了
cli-verdict-pass = 合格
cli-verdict-fail = 不合格
cli-drill-ended = 障害訓練 { $id }: { $status }、判定 { $verdict }
cli-no-verdict = なし
cli-drill-halting = 障害訓練 { $id }: 中止しています。変更した内容を元に戻します
cli-drill-summary = 障害訓練 { $id } { $stack } の { $scenario }: { $status }、判定 { $verdict }
cli-drill-times = 検出までの時間 { $mttd } ms、回復までの時間 { $mttr } ms
# $restored は true または false。
cli-drill-restored = 復旧済み: { $restored ->
        [true] はい
       *[other] いいえ
    }
cli-drill-needs-yes = (サイトが停止します: --yes が必要です)
cli-drill-step-then = 次に { $node } { $action }
cli-drill-step-then-hold = 次に { $node } { $action } ({ $ms } ms 保持)
cli-drill-step-with = 同時に { $node } { $action }
cli-drill-step-with-hold = 同時に { $node } { $action } ({ $ms } ms 保持)
cli-drill-problem = 問題: { $problem }

## hawaf schedule
cli-schedule-next = 次回 { $at }
cli-schedule-blackout = 除外時間帯 { $days } { $from }-{ $to } UTC
cli-every-day = 毎日
cli-schedule-drill = 障害訓練 { $id }
cli-schedule-deleted = スケジュール { $id } を削除しました

## hawaf lever
cli-lever-halted = 障害訓練 { $id } を中止しました
cli-lever-engaged = { $user } が作動: { $reason }
cli-lever-released = 解除済み: 障害訓練を実行できます
