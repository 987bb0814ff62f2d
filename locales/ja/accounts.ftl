# アカウントページ (自分のパスワードと API トークン)、ユーザーページ、
# 監査ログ、サインインページ。

## アカウント
accounts-account-title = アカウント
# ユーザー名 (太字) の前後。
accounts-account-signed-in-before = サインイン中のユーザー:
accounts-account-signed-in-after = ({ $role })
accounts-account-must-change = このパスワードは他のユーザーが設定したものです。続行するには、自分のパスワードを設定してください。
accounts-account-new-token = 新しい API トークン
accounts-account-new-token-once = 今すぐコピーしてください。表示されるのはこの 1 回だけで、保存されるのはハッシュのみです。
accounts-account-password = パスワード
accounts-account-current-password = 現在のパスワード
accounts-account-new-password = 新しいパスワード
accounts-account-new-password-hint = 12 文字以上。変更すると、他のセッションはすべて終了します。
accounts-account-confirm-password = 新しいパスワード (確認)
accounts-account-change-password = パスワードを変更
accounts-account-password-changed = パスワードを変更しました。他のセッションは終了しました。
accounts-account-passwords-differ = 新しいパスワードと確認用のパスワードが一致しません。

## API トークン
accounts-tokens-title = API トークン
accounts-tokens-name = 名前
accounts-tokens-name-placeholder = ci, laptop, grafana
accounts-tokens-days = 有効期間 (日)
accounts-tokens-create = トークンを作成
# コマンド `hawaf token create --user NAME` の前後。
accounts-tokens-viewers-before = 閲覧者は管理者にトークンの発行を依頼してください (
accounts-tokens-viewers-after = )。
accounts-tokens-everyone = すべてのユーザーのトークン
accounts-tokens-yours = 自分のトークン
accounts-tokens-col-id = ID
accounts-tokens-col-user = ユーザー
accounts-tokens-col-name = 名前
accounts-tokens-col-created = 作成日
accounts-tokens-col-last-used = 最終使用日時 ({ $zone })
accounts-tokens-col-expires = 有効期限
accounts-tokens-expired = 期限切れ
accounts-tokens-revoke = 取り消し
accounts-tokens-revoke-label = トークン { $id } ({ $name }) を取り消し
accounts-tokens-none = トークンはありません。スクリプトから API や hawaf コマンドラインを使うには作成してください。
accounts-tokens-never-used = 未使用
accounts-tokens-never-expires = なし
# $name は引用符付きのトークン名、$until は日付。
accounts-tokens-created = トークン { $name } を作成しました。有効期限は { $until } です。
accounts-tokens-revoked = トークン { $id } を取り消しました。以降の使用は拒否されます。

## ユーザー
accounts-users-title = ユーザー
accounts-users-intro = サインインできるユーザーとそのロールです。ロールまたはアクセスを変更すると、そのユーザーのセッションは直ちに終了します。無効にすると API トークンも使えなくなります。有効な管理者は常に 1 人以上残ります。
accounts-users-password-for = { $name } のパスワード
accounts-users-password-once = 今すぐ本人に渡してください。表示されるのはこの 1 回だけで、{ $name } は次回のサインイン時にこのパスワードを変更します。
accounts-users-col-user = ユーザー
accounts-users-col-role = ロール
accounts-users-col-state = 状態
accounts-users-col-created = 作成日
accounts-users-col-actions = アクション
accounts-users-you = (自分)
accounts-users-role-of = { $name } のロール
accounts-users-set-role = ロールを設定
accounts-users-state-disabled = 無効
accounts-users-state-must-change = パスワード再設定待ち
accounts-users-state-active = 有効
accounts-users-action-reset = パスワードをリセット
accounts-users-action-disable = 無効化
accounts-users-action-enable = 有効化
accounts-users-action-delete = 削除
accounts-users-add-title = ユーザーの追加
accounts-users-username = ユーザー名
accounts-users-username-hint = a-z、0-9、'.'、'_'、'-' を使用できます。パスワードは自動生成され、初回のサインイン時に本人が自分のパスワードを設定します。
accounts-users-role = ロール
accounts-users-add = ユーザーを追加
accounts-users-added = { $name } を追加しました。初回のサインイン時に本人が自分のパスワードを設定します。
# $role はロール名 (role-viewer、role-operator、role-admin)。
accounts-users-role-changed = { $name } のロールを{ $role }に変更しました。セッションは終了しました。
accounts-users-disabled = { $name } を無効にしました。セッションとトークンは終了しました。
accounts-users-enabled = { $name } は再びサインインできます。
accounts-users-deleted = { $name } を、そのセッションおよびトークンとともに削除しました。
accounts-users-reset = { $name } のパスワードをリセットしました。次回のサインイン時に本人が新しいパスワードを設定します。
accounts-users-unknown-action = 不明なアクション { $action } です。

## アカウントの規則による拒否 (ページでの表現)
accounts-refused-unknown-role = 不明なロール `{ $role }` です。viewer、operator、admin のいずれかを指定してください。
accounts-refused-bad-username = ユーザー名は a-z、0-9、'.'、'_'、'-' からなる 1～64 文字です。
accounts-refused-weak-password = パスワードは { $min } 文字以上にしてください。
accounts-refused-no-such-user = { $name } という名前のユーザーはいません。
accounts-refused-last-admin = { $name } は最後の有効な管理者です。先に別のユーザーを管理者にしてください。
accounts-refused-no-such-token = 自分のトークンに ID { $id } のものはありません。
accounts-refused-wrong-password = 現在のパスワードが正しくありません。
accounts-refused-same-password = 新しいパスワードは現在のパスワードと異なるものにしてください。
accounts-refused-bad-expiry = トークンの有効期間は 1～{ $max } 日です。
accounts-refused-bad-token-name = トークン名は印字可能な 1～64 文字です。

## 監査ログ
accounts-audit-title = 監査ログ
accounts-audit-intro = hawaf を通じて行われたすべての変更 (実行者、日時、内容、結果) です。新しい順に表示します。同じ拒否が続いた場合は、件数付きの 1 行にまとめます。
accounts-audit-filter-label = 監査ログを絞り込む
accounts-audit-who = 実行者
accounts-audit-stack = スタックまたはユーザー
accounts-audit-action = アクション
accounts-audit-action-placeholder = drill. または waf.switch
accounts-audit-outcome = 結果
accounts-audit-outcome-any = すべて
accounts-audit-outcome-ok = 成功
accounts-audit-outcome-refused = 拒否
accounts-audit-outcome-failed = 失敗
accounts-audit-filter = 絞り込み
accounts-audit-show-all = すべて表示
# 例 `user.` と `drill.` の前、間、後。
accounts-audit-action-hint = ドットで終わるアクションは、その系列全体を指します。例:
accounts-audit-action-hint-between = 、
accounts-audit-action-hint-after = { "" }
accounts-audit-col-when = 日時 ({ $zone })
accounts-audit-col-who = 実行者
accounts-audit-col-action = アクション
accounts-audit-col-target = 対象
accounts-audit-col-outcome = 結果
accounts-audit-col-detail = 詳細
# 同じ拒否の連続: 件数と開始時刻。
accounts-audit-burst = ×{ $count } ({ $time } 以降)
accounts-audit-nothing-matches = 一致するエントリはありません。
accounts-audit-nothing-yet = まだ何も記録されていません。サインイン、変更、構築、切り替え、訓練はすべてここに記録されます。
accounts-audit-older = 以前のエントリ

## サインイン
accounts-login-title = サインイン
accounts-login-heading = hawaf にサインイン
accounts-login-expired = セッションの有効期限が切れました。もう一度サインインしてください。
accounts-login-username = ユーザー名
accounts-login-password = パスワード
accounts-login-submit = サインイン
accounts-login-wrong = ユーザー名またはパスワードが正しくありません。
accounts-login-disabled = このアカウントは無効です。管理者に問い合わせてください。
accounts-tokens-none-viewer = トークンはありません。
