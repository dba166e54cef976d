// Package standard is the requirement catalogue of TAICS TS-0045 v1.0:2021, the
// Taiwanese baseline cybersecurity standard for consumer IoT products
// (消費性物聯網產品資安標準).
//
// The data is transcribed from the standard itself: the aspects (安全構面) and
// requirement groups (安全要求) and each item's level and conditions come from
// Table 1 (表 1 安全要求總表), the requirement text from section 5 (標準規範),
// and the mapping to ETSI EN 303 645 provisions from Annex B (表 B.1). The
// zh-TW text is kept verbatim; the English text is a rendering of it that uses
// EN 303 645 terminology where the meaning matches.
//
// Every item carries a level: M (mandatory), R (recommended), MC (mandatory,
// conditional) or RC (recommended, conditional). Conditional items list one or
// more of the thirteen conditions printed above Table 1, such as (1) "passwords
// are used" or (12) "an update mechanism exists". Applicability resolves an item
// for a concrete product: given the set of conditions the product meets, an item
// without conditions always applies at its level, while an item with conditions
// applies only when all of its listed conditions are met and is otherwise not
// applicable.
package standard
