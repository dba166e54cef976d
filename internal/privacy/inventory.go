package privacy

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// Text is a sentence in both of Hearth's languages.
type Text struct{ EN, ZH string }

// Class is how the law sees a kind of data (TS-0045 3.5, 3.6).
type Class string

// The classes.
const (
	// Personal data relates to an identified or identifiable person.
	Personal Class = "personal"
	// Sensitive personal data harms the person if disclosed, e.g. time-stamped presence
	// at home.
	Sensitive Class = "sensitive"
	// NotPersonal data relates to the device, not to anyone.
	NotPersonal Class = "not_personal"
)

// Category is one kind of data Hearth collects, keeps or sends.
type Category struct {
	ID    string
	Name  Text
	Class Class
	// Fields says in plain words what the data consists of.
	Fields Text
	// Purpose is why Hearth keeps or sends it.
	Purpose Text
	// Retention is how long it is kept.
	Retention Text
	// Location is where it is kept: on the gateway, with the vendor, or both.
	Location Text
	// Recipients are who receives it besides the gateway itself.
	Recipients Text
	// Consent is the purpose the owner must opt into before the data leaves the
	// gateway; empty for data that stays on it, or that needs no consent.
	Consent Purpose
	// UserData is true for data the owner's "delete my data" removes; false for the
	// device's factory data, which a reset keeps so the device stays itself.
	UserData bool
	// Stores names where the gateway keeps it: "file.db:table" or a file or directory
	// name in the data directory.
	Stores []string
	// Sends names the kind of document it is sent as to the vendor (empty: never sent)
	// and the only top-level fields such a document may carry.
	Sends      string
	SendFields []string
}

// ConsentVersion names the consent text of each purpose. Change the version whenever
// the text the owner reads (i18n "privacy.consent.<purpose>") changes: a consent given
// to an older text is recorded with the version it was given to.
var ConsentVersion = map[Purpose]string{
	PurposeTelemetry:    "1",
	PurposeCrashReports: "1",
	PurposeCloudBackup:  "1",
}

// Inventory is every kind of data Hearth handles. The privacy page and docs/PRIVACY.md
// are generated from it, and tests check that everything the gateway actually stores
// or sends is listed here.
//
// TS-0045 5.7.1.3 (what the sensors sense), 5.7.1.12 (which telemetry, why, and who
// receives it), 5.7.1.6 (what "delete my data" removes).
var Inventory = []Category{
	{
		ID: "accounts", Class: Personal, UserData: true,
		Name:       Text{"Accounts", "帳號"},
		Fields:     Text{"User names, roles, password hashes (sealed with a key kept in the keystore), when each password was set, failed sign-in counts.", "使用者名稱、角色、密碼雜湊值（以金鑰庫中的金鑰封存）、密碼設定時間、登入失敗次數。"},
		Purpose:    Text{"Signing in and deciding who may do what.", "登入驗證與權限控管。"},
		Retention:  Text{"Until the account is removed or the owner deletes all data.", "保存至帳號被移除，或擁有者刪除所有資料為止。"},
		Location:   Text{"Gateway only.", "僅存於閘道器。"},
		Recipients: Text{"Nobody.", "無。"},
		Stores:     []string{"hearthd.db:users", "hearthd.db:lock_states"},
	},
	{
		ID: "sessions", Class: Personal, UserData: true,
		Name:       Text{"Sign-in sessions", "登入工作階段"},
		Fields:     Text{"Hashes of session cookies and API tokens, the token names you chose, when each was created and last used, browsers trusted after a successful sign-in.", "工作階段 Cookie 與 API 權杖的雜湊值、您為權杖取的名稱、建立與最後使用時間、成功登入後受信任的瀏覽器。"},
		Purpose:    Text{"Keeping you signed in and letting you sign other devices out.", "維持登入狀態，並讓您登出其他裝置。"},
		Retention:  Text{"Until they expire (at most 30 days), are revoked, or the owner deletes all data.", "保存至過期（最長 30 天）、被撤銷，或擁有者刪除所有資料為止。"},
		Location:   Text{"Gateway only.", "僅存於閘道器。"},
		Recipients: Text{"Nobody.", "無。"},
		Stores:     []string{"hearthd.db:sessions", "hearthd.db:trusted_clients"},
	},
	{
		ID: "security_events", Class: Personal, UserData: true,
		Name:       Text{"Security event log", "安全事件紀錄"},
		Fields:     Text{"Time, kind and outcome of security-relevant actions, the user name and the network address involved; each entry is chained by hash to the one before, and the device signs the chain's head.", "安全相關操作的時間、種類與結果，以及相關的使用者名稱與網路位址；每筆紀錄以雜湊值串連前一筆，裝置並簽署最新的紀錄。"},
		Purpose:    Text{"Letting you see sign-ins, lockouts, changes and attacks on your gateway.", "讓您查看閘道器的登入、鎖定、變更與攻擊紀錄。"},
		Retention:  Text{"The newest 10,000 events, or until the owner deletes all data.", "保留最新 10,000 筆，或至擁有者刪除所有資料為止。"},
		Location:   Text{"Gateway only.", "僅存於閘道器。"},
		Recipients: Text{"Nobody. With your consent to telemetry, a reduced copy goes to the vendor (see below).", "無。若您同意遙測，精簡後的副本會傳送給廠商（見下方）。"},
		Stores:     []string{"hearthd.db:events", "hearthd.db:event_heads"},
	},
	{
		ID: "settings", Class: Personal, UserData: true,
		Name:       Text{"Settings and consents", "設定與同意紀錄"},
		Fields:     Text{"Your security settings, and each consent you gave or withdrew: purpose, text version, time and user name.", "您的安全設定，以及每一次同意或撤回：目的、條款版本、時間與使用者名稱。"},
		Purpose:    Text{"Running the gateway as you chose, and proving what you agreed to.", "依您的選擇運作閘道器，並證明您同意的內容。"},
		Retention:  Text{"Until the owner deletes all data.", "保存至擁有者刪除所有資料為止。"},
		Location:   Text{"Gateway; the vendor keeps the consents for data it receives (purpose, version, time; no user name).", "閘道器；廠商保存與其所收資料相關的同意紀錄（目的、版本、時間，不含使用者名稱）。"},
		Recipients: Text{"The vendor, for consents only.", "廠商，僅限同意紀錄。"},
		Stores:     []string{"hearthd.db:settings", "hearthd.db:consents"},
		Sends:      KindConsent, SendFields: []string{"purpose", "granted", "version", "time"},
	},
	{
		ID: "sensors", Class: Personal, UserData: true,
		Name:       Text{"Paired sensors", "已配對的感測器"},
		Fields:     Text{"Each sensor's name (which may say which room it is in), model, state, who paired it and when, and a hash of its credential (sealed).", "每個感測器的名稱（可能透露所在房間）、型號、狀態、配對者與時間，以及憑證雜湊值（已封存）。"},
		Purpose:    Text{"Letting only your sensors connect, and showing them by name.", "只允許您的感測器連線，並以名稱顯示。"},
		Retention:  Text{"Until the sensor is removed or the owner deletes all data.", "保存至感測器被移除，或擁有者刪除所有資料為止。"},
		Location:   Text{"Gateway only.", "僅存於閘道器。"},
		Recipients: Text{"Nobody.", "無。"},
		Stores:     []string{"hearthd.db:sensors"},
	},
	{
		ID: "readings", Class: Sensitive, UserData: true,
		Name:       Text{"Sensor readings", "感測器讀數"},
		Fields:     Text{"What your sensors measure, with the time: temperature, humidity, motion, doors opening. Motion and door readings show when someone is at home.", "感測器量測的數值與時間：溫度、濕度、動作、門窗開關。動作與門窗讀數會顯示何時有人在家。"},
		Purpose:    Text{"Showing you your home's readings and history.", "向您顯示家中的讀數與歷史。"},
		Retention:  Text{"30 days and at most 5 million readings, then the oldest are deleted; or until the owner deletes all data.", "保存 30 天且最多 500 萬筆，超過即刪除最舊的資料；或至擁有者刪除所有資料為止。"},
		Location:   Text{"Gateway only, unless you turn on cloud backup.", "僅存於閘道器，除非您開啟雲端備份。"},
		Recipients: Text{"Nobody.", "無。"},
		Stores:     []string{"readings.db:readings", "readings.db:sources"},
	},
	{
		ID: "telemetry", Class: Personal, UserData: true, Consent: PurposeTelemetry,
		Name:       Text{"Telemetry: device summary", "遙測：裝置摘要"},
		Fields:     Text{"Once an hour: the firmware version, how many sensors of each model are paired and in which state, and how many failed sign-ins, lockouts, refused updates, integrity violations and refused sensor connections the hour had. Sent under a random pseudonym, not the serial number; no names, no readings, no addresses.", "每小時一次：韌體版本、各型號已配對的感測器數量與狀態，以及該小時的登入失敗、帳號鎖定、被拒絕的更新、完整性異常與被拒絕的感測器連線次數。以隨機假名傳送，不含序號；不含名稱、讀數或位址。"},
		Purpose:    Text{"Knowing which firmware and sensors are in use, to plan updates and support; noticing attacks across the fleet.", "了解使用中的韌體與感測器，以規劃更新與支援；察覺針對整批裝置的攻擊。"},
		Retention:  Text{"On the gateway until sent (at most 10,000 documents); at the vendor 13 months.", "閘道器上保存至傳送為止（最多 10,000 份）；廠商保存 13 個月。"},
		Location:   Text{"Gateway (queue) and vendor.", "閘道器（佇列）與廠商。"},
		Recipients: Text{"The vendor only. Never sold, never shared with advertisers.", "僅廠商。不會出售，也不會分享給廣告商。"},
		Stores:     []string{"outbox.db:items", "outbox.db:meta"},
		Sends:      KindTelemetry, SendFields: []string{"firmware", "sensors", "counts"},
	},
	{
		ID: "telemetry_events", Class: Personal, UserData: true, Consent: PurposeTelemetry,
		Name:       Text{"Telemetry: security warnings", "遙測：安全警示"},
		Fields:     Text{"For each warning or critical security event: its kind, severity and the minute it happened. No user names, no addresses, no details.", "每一個警告或嚴重的安全事件：種類、嚴重程度與發生的分鐘。不含使用者名稱、位址或細節。"},
		Purpose:    Text{"Noticing attacks on many gateways at once and reacting to them.", "察覺同時針對多台閘道器的攻擊並加以因應。"},
		Retention:  Text{"On the gateway until sent; at the vendor 13 months.", "閘道器上保存至傳送為止；廠商保存 13 個月。"},
		Location:   Text{"Gateway (queue) and vendor.", "閘道器（佇列）與廠商。"},
		Recipients: Text{"The vendor only.", "僅廠商。"},
		Stores:     []string{"outbox.db:items"},
		Sends:      KindSecurityEvent, SendFields: []string{"kind", "severity", "time"},
	},
	{
		ID: "crash_reports", Class: NotPersonal, UserData: true, Consent: PurposeCrashReports,
		Name:       Text{"Crash reports", "當機報告"},
		Fields:     Text{"After the gateway program crashed: the firmware version, the day, whether it was a panic, a fatal error or a signal, and the names of the program functions involved. No values, no messages, no data of yours.", "閘道器程式當機後：韌體版本、日期、當機類型（panic、嚴重錯誤或訊號），以及相關的程式函式名稱。不含數值、訊息或您的任何資料。"},
		Purpose:    Text{"Finding and fixing the fault.", "找出並修正錯誤。"},
		Retention:  Text{"On the gateway until the next start (then reduced and sent, or deleted); at the vendor 90 days.", "閘道器上保存至下次啟動（之後精簡並傳送，或刪除）；廠商保存 90 天。"},
		Location:   Text{"Gateway and vendor.", "閘道器與廠商。"},
		Recipients: Text{"The vendor only.", "僅廠商。"},
		Stores:     []string{"crash"},
		Sends:      KindCrashReport, SendFields: []string{"firmware", "day", "reason", "functions"},
	},
	{
		ID: "backup", Class: Sensitive, UserData: true, Consent: PurposeCloudBackup,
		Name:       Text{"Cloud backup of readings", "感測器讀數雲端備份"},
		Fields:     Text{"Your sensor readings, encrypted on the gateway with a key that never leaves it: the vendor stores only ciphertext it cannot read.", "您的感測器讀數，在閘道器上以不會離開閘道器的金鑰加密：廠商只保存無法解讀的密文。"},
		Purpose:    Text{"Keeping a copy of your readings away from the gateway.", "在閘道器以外保存一份讀數副本。"},
		Retention:  Text{"At the vendor 30 days.", "廠商保存 30 天。"},
		Location:   Text{"Vendor (encrypted).", "廠商（加密）。"},
		Recipients: Text{"The vendor, as ciphertext only.", "廠商，僅限密文。"},
		Sends:      KindBackup, SendFields: []string{"v", "from", "to", "count", "sealed"},
	},
	{
		ID: "alerts", Class: Personal, UserData: true,
		Name:       Text{"Alerts and alert channels", "警示與通知管道"},
		Fields:     Text{"Alerts raised for security events (kind, severity, time and a short summary; no user names or addresses) with their delivery status per channel; your alert rules, webhook addresses and secrets, mail relay and e-mail addresses (sealed in the keystore).", "因安全事件發出的警示（種類、嚴重程度、時間與簡短摘要；不含使用者名稱或位址）及各管道的傳送狀態；您的警示規則、Webhook 位址與密鑰、郵件轉送伺服器與電子郵件地址（封存於金鑰庫）。"},
		Purpose:    Text{"Telling you about lockouts, integrity violations and refused updates where you chose.", "在您選擇的管道通知您帳號鎖定、完整性異常與被拒絕的更新。"},
		Retention:  Text{"The newest 1,000 alerts; the settings until changed, or until the owner deletes all data.", "保留最新 1,000 筆警示；設定保存至變更，或擁有者刪除所有資料為止。"},
		Location:   Text{"Gateway; each alert goes to the webhooks and e-mail addresses you set up.", "閘道器；每則警示會送到您設定的 Webhook 與電子郵件地址。"},
		Recipients: Text{"Your webhook endpoints and mail relay; the vendor only with your consent to telemetry, as a security warning.", "您的 Webhook 端點與郵件轉送伺服器；只有在您同意遙測時，才會以安全警示的形式送給廠商。"},
		Stores:     []string{"alerts.db:alerts", "alerts.db:deliveries", "alerts.db:meta"},
	},
	{
		ID: "device", Class: NotPersonal, UserData: false,
		Name:       Text{"Device identity and software", "裝置身分與軟體"},
		Fields:     Text{"Serial number, model, certificates and keys (sealed in the keystore), the hash of the label password, installed firmware and its update state, the deletion record.", "序號、型號、憑證與金鑰（封存於金鑰庫）、標籤密碼的雜湊值、已安裝的韌體及其更新狀態、刪除紀錄。"},
		Purpose:    Text{"Proving the gateway is genuine, and updating it securely.", "證明閘道器為正品，並安全地更新。"},
		Retention:  Text{"For the device's life; a factory reset keeps it, so the gateway stays itself and cannot be rolled back to older firmware.", "保存於裝置整個使用期間；回復原廠設定會保留，讓閘道器維持原有身分且無法降版。"},
		Location:   Text{"Gateway; the vendor keeps the serial number and certificates it issued.", "閘道器；廠商保存其核發的序號與憑證。"},
		Recipients: Text{"The vendor, when the gateway renews its certificate or checks for updates.", "廠商，於閘道器更新憑證或檢查更新時。"},
		Stores:     []string{"factory", "keystore", "identity", "slots", "update", ErasureFile},
	},
}

// Lookup returns the category with the id.
func Lookup(id string) (Category, bool) {
	for _, c := range Inventory {
		if c.ID == id {
			return c, true
		}
	}
	return Category{}, false
}

// CheckFields reports an error when doc, a document of kind for the vendor, has a
// top-level field the inventory does not list for that kind.
//
// TS-0045 5.7.1.11: what is sent is only what the inventory declares necessary.
func CheckFields(kind string, doc []byte) error {
	allowed := sendFields(kind)
	if allowed == nil {
		return fmt.Errorf("privacy: the inventory lists no document of kind %q", kind)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(doc, &fields); err != nil {
		return fmt.Errorf("privacy: %s document: %w", kind, err)
	}
	var extra []string
	for f := range fields {
		if !slices.Contains(allowed, f) {
			extra = append(extra, f)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("privacy: %s document carries fields the inventory does not list: %v", kind, extra)
	}
	return nil
}

// sendFields returns the fields listed for kind, or nil when no category sends it.
func sendFields(kind string) []string {
	for _, c := range Inventory {
		if c.Sends == kind {
			return c.SendFields
		}
	}
	return nil
}
