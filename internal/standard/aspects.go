package standard

// Aspect is a security aspect (安全構面), the first column of Table 1.
type Aspect struct {
	ID     string // "5.1"
	NameZH string
	NameEN string
}

// Group is a security requirement (安全要求), the second column of Table 1,
// which gathers one or more requirement items.
type Group struct {
	ID     string // "5.1.1"
	Aspect string // "5.1"
	NameZH string
	NameEN string
}

// aspects uses the names printed in Table 1. The text elsewhere names two of
// them differently: 5.2 is 漏洞安全 in the overview above Table 1 and in the
// section 5 heading, and 5.8 is 異常警示 in the section 5 heading.
var aspects = []Aspect{
	{ID: "5.1", NameZH: "身分鑑別", NameEN: "Authentication"},
	{ID: "5.2", NameZH: "安全漏洞", NameEN: "Security vulnerabilities"},
	{ID: "5.3", NameZH: "軟韌體更新", NameEN: "Software and firmware updates"},
	{ID: "5.4", NameZH: "資料機密性與完整性", NameEN: "Data confidentiality and integrity"},
	{ID: "5.5", NameZH: "系統完整性", NameEN: "System integrity"},
	{ID: "5.6", NameZH: "資源可用性", NameEN: "Resource availability"},
	{ID: "5.7", NameZH: "隱私保護", NameEN: "Privacy protection"},
	{ID: "5.8", NameZH: "異常與警示", NameEN: "Anomalies and alerts"},
}

var groups = []Group{
	{ID: "5.1.1", Aspect: "5.1", NameZH: "通行碼鑑別", NameEN: "Password authentication"},
	{ID: "5.1.2", Aspect: "5.1", NameZH: "身分認證機制", NameEN: "Authentication mechanisms"},
	{ID: "5.2.1", Aspect: "5.2", NameZH: "漏洞政策與安全設置", NameEN: "Vulnerability policy and secure configuration"},
	{ID: "5.2.2", Aspect: "5.2", NameZH: "最小暴露攻擊面", NameEN: "Minimizing exposed attack surfaces"},
	{ID: "5.3.1", Aspect: "5.3", NameZH: "更新安全", NameEN: "Update security"},
	{ID: "5.4.1", Aspect: "5.4", NameZH: "敏感性安全參數儲存", NameEN: "Storage of sensitive security parameters"},
	{ID: "5.4.2", Aspect: "5.4", NameZH: "傳輸資料保護", NameEN: "Protection of transmitted data"},
	{ID: "5.5.1", Aspect: "5.5", NameZH: "實體入侵防護", NameEN: "Physical intrusion protection"},
	{ID: "5.5.2", Aspect: "5.5", NameZH: "輸入驗證", NameEN: "Input validation"},
	{ID: "5.6.1", Aspect: "5.6", NameZH: "資源管理", NameEN: "Resource management"},
	{ID: "5.7.1", Aspect: "5.7", NameZH: "隱私保護能力", NameEN: "Privacy protection capabilities"},
	{ID: "5.8.1", Aspect: "5.8", NameZH: "安全事件警示", NameEN: "Security event alerts"},
}

// Aspects returns the eight security aspects in document order.
func Aspects() []Aspect {
	return append([]Aspect(nil), aspects...)
}

// Groups returns the security requirement groups in document order.
func Groups() []Group {
	return append([]Group(nil), groups...)
}
