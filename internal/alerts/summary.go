package alerts

import "hearth/internal/events"

// summaries are the English summaries of the kinds the default rules alert on; the
// zh-TW ones are for e-mail.
var summaries = map[events.Kind][2]string{
	events.AccountLocked:    {"An account was locked after repeated failed logins", "帳號因多次登入失敗已被鎖定"},
	IntegrityViolation:      {"An integrity check failed: software or data was altered", "完整性檢查失敗：軟體或資料遭到變更"},
	events.UpdateFailed:     {"A software update failed", "軟體更新失敗"},
	events.FirmwareRejected: {"A firmware image was refused", "韌體映像檔遭拒絕"},
}

// summary is a one-line English description of e: the kind's summary and the event's
// detail.
func summary(e events.Event) string {
	s, ok := summaries[e.Kind]
	text := s[0]
	if !ok {
		text = "Security event " + string(e.Kind)
	}
	if e.Detail != "" {
		text += ": " + e.Detail
	}
	return text
}

// summaryZH is the Traditional Chinese summary of e's kind.
func summaryZH(e events.Event) string {
	if s, ok := summaries[e.Kind]; ok {
		return s[1]
	}
	return "安全事件 " + string(e.Kind)
}
