package privacy

import (
	"bytes"
	"fmt"
	"strings"
)

// DocCommand regenerates docs/PRIVACY.md.
const DocCommand = "go test ./internal/privacy -run TestPrivacyDocCurrent -update"

// className is each class in plain words.
var className = map[Class]Text{
	Personal:    {"Personal data", "個人資料"},
	Sensitive:   {"Sensitive personal data", "敏感性個人資料"},
	NotPersonal: {"Not personal data", "非個人資料"},
}

// purposeName is each purpose in plain words (as i18n "privacy.purpose.<p>").
var purposeName = map[Purpose]Text{
	PurposeTelemetry:    {"Telemetry", "遙測"},
	PurposeCrashReports: {"Crash reports", "當機報告"},
	PurposeCloudBackup:  {"Cloud backup of readings", "感測器讀數雲端備份"},
}

// RenderDoc writes docs/PRIVACY.md from the inventory: the same content as the privacy
// page of the gateway's web UI, in zh-TW and English, with the steps to delete all
// user data.
//
// TS-0045 5.7.1.6: clear instructions for deleting personal data, in the manual.
func RenderDoc() []byte {
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# Privacy / 隱私權說明\n\n")
	w("<!-- Generated from internal/privacy/inventory.go by: %s -->\n\n", DocCommand)
	w("This document and the gateway's Privacy page are generated from the same data inventory, which the gateway also enforces: a document for the vendor carrying a field not listed here is refused before it is queued.\n\n")
	w("本文件與閘道器的「隱私」頁面由同一份資料清冊產生，閘道器也依此清冊執行：傳送給廠商的文件若含有此處未列出的欄位，會在排入佇列前被拒絕。\n\n")
	for _, lang := range []string{"zh", "en"} {
		t := func(x Text) string {
			if lang == "zh" {
				return x.ZH
			}
			return x.EN
		}
		pick := func(en, zh string) string {
			if lang == "zh" {
				return zh
			}
			return en
		}
		w("## %s\n\n", pick("English", "中文"))
		w("### %s\n\n", pick("What Hearth keeps and sends", "Hearth 保存與傳送的資料"))
		w("| %s | %s | %s | %s | %s | %s | %s |\n|---|---|---|---|---|---|---|\n",
			pick("Data", "資料"), pick("Class", "類別"), pick("What it is", "內容"), pick("Purpose", "目的"),
			pick("Kept", "保存期間"), pick("Where / who receives it", "保存位置／接收者"), pick("Consent", "同意"))
		for _, c := range Inventory {
			consent := pick("not needed", "不需要")
			if c.Consent != "" {
				consent = fmt.Sprintf(pick("opt-in: %s (off by default)", "須主動同意：%s（預設關閉）"), t(purposeName[c.Consent]))
			}
			w("| %s | %s | %s | %s | %s | %s — %s | %s |\n", t(c.Name), t(className[c.Class]), cell(t(c.Fields)), cell(t(c.Purpose)),
				cell(t(c.Retention)), cell(t(c.Location)), cell(t(c.Recipients)), consent)
		}
		w("\n### %s\n\n", pick("Exactly what is sent to the vendor", "傳送給廠商的確切欄位"))
		w("%s\n\n", pick("Documents go to the vendor only over mutual TLS (TLS 1.2 or 1.3, forward secrecy, AES-GCM), under a random pseudonym that is replaced when you delete your data. Each kind may carry only these fields:",
			"文件只經由雙向 TLS（TLS 1.2 或 1.3、前向保密、AES-GCM）傳送給廠商，並使用隨機假名，刪除資料時會更換假名。各種文件只能包含以下欄位："))
		for _, c := range Inventory {
			if c.Sends == "" {
				continue
			}
			w("- `%s` (%s): `%s`\n", c.Sends, t(c.Name), strings.Join(c.SendFields, "`, `"))
		}
		w("\n### %s\n\n", pick("Your consents", "您的同意"))
		w("%s\n\n", pick("Every purpose that sends data is off until the owner turns it on (first-run wizard or Privacy page). Each choice is recorded with its time, the version of the text you agreed to and who chose. Withdrawing takes effect at once: anything queued for that purpose is deleted, the vendor is told, and it refuses further data for the purpose.",
			"每一個會傳送資料的目的，在擁有者開啟前都是關閉的（首次設定精靈或「隱私」頁面）。每次選擇都會記錄時間、您同意的條款版本與選擇者。撤回立即生效：該目的排隊中的資料會被刪除，並通知廠商，廠商之後也會拒收該目的的資料。"))
		w("\n### %s\n\n", pick("Deleting all your data", "刪除您的所有資料"))
		steps := []Text{
			{"Sign in as an owner and open **Privacy** → **Delete my data**.", "以擁有者身分登入，開啟「隱私」→「刪除我的資料」。"},
			{"Tick **I understand this cannot be undone**, press **Delete everything**, and confirm your password if asked.", "勾選「我了解此動作無法復原」，按下「全部刪除」，若系統要求則再次確認密碼。"},
			{"The gateway deletes, at once: " + userDataList("en") + ". The key that sealed passwords and sensor credentials is destroyed, so no copy left on the storage can be read.", "閘道器會立即刪除：" + userDataList("zh") + "。封存密碼與感測器憑證的金鑰會被銷毀，儲存裝置上殘留的副本都無法再被讀取。"},
			{"A status page shows each part: the gateway (deleted) and the vendor (asked to delete everything it holds for this gateway: telemetry, crash reports, backups and the consent records). The vendor's part is retried until it confirms; the gateway then checks that the vendor holds nothing more. Keep the page open or bookmark it: it needs no sign-in.", "狀態頁面會顯示各部分的進度：閘道器（已刪除）與廠商（要求刪除其保存的此閘道器所有資料：遙測、當機報告、備份與同意紀錄）。廠商部分會持續重試直到確認完成，之後閘道器會檢查廠商已不再保存任何資料。可保持頁面開啟或加入書籤：不需登入即可查看。"},
			{"Sign in again with the user name and password printed on the label; you will be asked to choose a new password, as on the first day.", "使用標籤上印的使用者名稱與密碼重新登入；系統會要求您設定新密碼，如同第一次使用時。"},
		}
		for i, s := range steps {
			w("%d. %s\n", i+1, t(s))
		}
		w("\n%s\n\n", pick("Without the web UI, the same deletion runs from the device's console while hearthd is stopped: `hearthd factory-reset --data /var/lib/hearth --yes`. The vendor's part follows when the gateway next runs with its vendor services. A deletion interrupted by a power cut finishes at the next start, before the gateway serves anyone.",
			"不使用網頁介面時，可在 hearthd 停止時於裝置主控台執行同樣的刪除：`hearthd factory-reset --data /var/lib/hearth --yes`。廠商部分會在閘道器下次連線廠商服務時進行。因斷電而中斷的刪除，會在下次啟動、開始服務前完成。"))
		w("%s\n\n", pick("What stays: the device's identity (serial number, certificates, keys), its firmware and update state (so it cannot be rolled back to older firmware), and the record of the deletion itself, which holds no personal data.",
			"保留的資料：裝置身分（序號、憑證、金鑰）、韌體與更新狀態（避免被降版到舊韌體），以及刪除紀錄本身，其中不含個人資料。"))
		w("%s\n\n", pick("The vendor publishes its register of processing activities (who processes which data for what) at `/privacy/processing` of its services.",
			"廠商於其服務的 `/privacy/processing` 公開個人資料處理活動紀錄（誰為何目的處理哪些資料）。"))
	}
	return b.Bytes()
}

// userDataList names the categories "delete my data" removes.
func userDataList(lang string) string {
	var names []string
	for _, c := range Inventory {
		if c.UserData {
			n := c.Name.EN
			if lang == "zh" {
				n = c.Name.ZH
			}
			names = append(names, strings.ToLower(n[:1])+n[1:])
		}
	}
	if lang == "zh" {
		return strings.Join(names, "、")
	}
	return strings.Join(names, ", ")
}

// cell escapes a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
