# すべてのページで共通: 言語名、ヘッダー、ロール。
lang-name = 日本語
nav-skip = 本文へスキップ
nav-label = メイン
nav-stacks = スタック
nav-audit = 監査ログ
nav-users = ユーザー
nav-webhooks = Webhook
nav-sign-out = サインアウト
nav-language = 言語
role-viewer = 閲覧者
role-operator = オペレーター
role-admin = 管理者
# カタログ自体のテスト用 (複数形の選択)。
test-count = { $count } items
