# 構築ウィザード: 8 つのステップ、各ステップのカード、構築のヘッダー、
# ボタンへの応答。

wizard-page-title = { $name } の構築
wizard-title-build = 構築
wizard-intro = シードチュートリアルの 8 つのコンソール手順です。各ステップは作成したリソースをすべて記録し、既存のリソースをタグで見つけるため、何度でも安全に再実行できます。

## ステップ名 (番号ごと、構築の種類ごと)。適用はシードチュートリアルの言葉に合わせています。
wizard-step-apply-1 = VPC の作成
wizard-step-apply-2 = サブネットの作成
wizard-step-apply-3 = セキュリティグループの作成
wizard-step-apply-4 = Web コンテンツサーバーの構築
wizard-step-apply-5 = 内部ロードバランサーの構築
wizard-step-apply-6 = WAF ノードの起動
wizard-step-apply-7 = 外部ロードバランサーの構築
wizard-step-apply-8 = WAF の設定
wizard-step-destroy-1 = VPC の削除
wizard-step-destroy-2 = サブネットの削除
wizard-step-destroy-3 = セキュリティグループの削除
wizard-step-destroy-4 = Web コンテンツサーバーの削除
wizard-step-destroy-5 = 内部ロードバランサーの削除
wizard-step-destroy-6 = WAF ノードの削除
wizard-step-destroy-7 = 外部ロードバランサーの削除
wizard-step-destroy-8 = WAF の設定の破棄

## ステップの状態。
wizard-step-status-not-run = 未実行
wizard-step-status-pending = 待機中
wizard-step-status-running = 実行中
wizard-step-status-succeeded = 成功
wizard-step-status-failed = 失敗
wizard-step-status-skipped = スキップ
wizard-step-status-interrupted = 中断

## 構築の状態と種類。
wizard-build-status-running = 実行中
wizard-build-status-succeeded = 成功
wizard-build-status-failed = 失敗
wizard-build-status-interrupted = 中断
wizard-kind-apply = 適用
wizard-kind-destroy = 破棄
wizard-kind-adopt = 取り込み

## 各ステップをコンソールの言葉で。
wizard-doc-1 = VPC > お使いの VPC > VPC を作成 (インターネットゲートウェイをアタッチ)。
wizard-doc-2 = VPC > サブネット > サブネットを作成 (アベイラビリティーゾーンと層ごとに 1 つ、ルートテーブルを含む)。
wizard-doc-3 = EC2 > セキュリティグループ > セキュリティグループを作成 (インバウンドルールを含む)。
wizard-doc-4 = EC2 > インスタンス > インスタンスを起動: Web サーバー 2 台 (ユーザーデータを含む)。
wizard-doc-6 = EC2 > インスタンス > インスタンスを起動: WAF ノード 2 台。Elastic IP > Elastic IP アドレスを割り当てる で割り当てて関連付けます。
wizard-doc-lb-classic = EC2 > ロードバランサー > ロードバランサーの作成: Classic Load Balancer ({ $scheme })。
wizard-doc-lb-application = EC2 > ロードバランサー > ロードバランサーの作成: Application Load Balancer ({ $scheme })、ターゲットグループを含む。
wizard-doc-lb-network = EC2 > ロードバランサー > ロードバランサーの作成: Network Load Balancer ({ $scheme })、ターゲットグループを含む。
wizard-doc-8-utm = WebAdmin > Management > WebAdmin Settings > RESTful API: hawaf が Webserver Protection の設定に使うトークンです。
wizard-doc-8-sfos = Backup & firmware > API: API をオンにして hawaf のアドレスを許可します。その後 hawaf が Web サーバー保護ルールを追加します。
wizard-scheme-internal = 内部
wizard-scheme-internet-facing = インターネット向け

## ステップのカード。
wizard-run-step = ステップを実行
wizard-doc-in-console = コンソールでの操作:
wizard-doc-aws = AWS ドキュメント
wizard-doc-sophos = Sophos ドキュメント
wizard-doc-for-step = (ステップ { $step })
wizard-access-sfos = 各 Sophos Firewall ノードで、コンソールを開いてセットアップウィザードを完了し、Backup & firmware > API で API をオンにして、許可リストに hawaf のアドレスを追加します。次に、hawaf が受け取った証明書とコンソールに表示される証明書を比較し、管理者のユーザー名とパスワードを hawaf に渡します。証明書は固定され、以後、変更された証明書は拒否されます。
wizard-access-utm = シードの初回設定を各ノードで行います。コンソールを開き、ホスト名にノードのプライベート IP を設定し、管理者パスワードとタイムゾーンを設定します。REST API をオンにして API トークンを作成します。次に、hawaf が受け取った証明書と WebAdmin に表示される証明書を比較し、トークンを hawaf に渡します。証明書は固定され、以後、変更された証明書は拒否されます。
wizard-access-console = コンソール
wizard-access-credentials-stored = 認証情報を保存済み、証明書を固定済み
wizard-access-token-stored = トークンを保存済み、証明書を固定済み
wizard-access-api-address = { $node } の API アドレス
wizard-access-show-certificate = 証明書を表示
wizard-calls = クラウド API 呼び出し { $count } 件
wizard-calls-at = 時刻 ({ $zone })
wizard-calls-operation = オペレーション
wizard-calls-target = 対象
wizard-calls-outcome = 結果
wizard-calls-ms = ミリ秒
wizard-outcome-ok = OK

## 構築のヘッダー。
wizard-head-build = 構築 { $id } ({ $user } が開始)、時刻
wizard-head-zone = ({ $zone })
wizard-head-interrupted = この構築の実行中にサーバーが停止しました。再開すると、停止した箇所から続行し、作成済みのリソースを取り込みます。
wizard-head-not-built = 未構築
wizard-head-nothing-yet = まだ何も実行されていません。以下は各ステップで作成されるものです。
wizard-resume = 再開
wizard-build-all = すべて構築
wizard-teardown-placeholder = 破棄するには { $stack } と入力
wizard-teardown-label = 破棄を確認するには、スタック名を入力します
wizard-teardown = 破棄

## ボタンへの応答。
wizard-started-build = 構築を開始しました (構築 { $id })。
wizard-started-step = ステップ { $step } を開始しました (構築 { $id })。
wizard-started-resume = 再開しました (構築 { $id })。
wizard-started-teardown = 破棄を開始しました (構築 { $id })。
wizard-teardown-confirm = 破棄を確認するには、スタック名 { $name } を入力してください
# 取り込みは既存のリソースに対して作成ステップを実行し、何も作成しない。
wizard-step-adopt-1 = VPC の取り込み
wizard-step-adopt-2 = サブネットの取り込み
wizard-step-adopt-3 = セキュリティグループの取り込み
wizard-step-adopt-4 = Web コンテンツサーバーの取り込み
wizard-step-adopt-5 = 内部ロードバランサーの取り込み
wizard-step-adopt-6 = WAF ノードの取り込み
wizard-step-adopt-7 = 外部ロードバランサーの取り込み
wizard-step-adopt-8 = WAF の設定の取り込み
