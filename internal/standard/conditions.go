package standard

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Condition is one of the thirteen numbered conditions, (1) to (13), listed
// above Table 1 under 第三欄之條件說明.
type Condition int

// MinCondition and MaxCondition bound the condition numbers defined by the standard.
const (
	MinCondition Condition = 1
	MaxCondition Condition = 13
)

// Valid reports whether c is one of the conditions defined by the standard.
func (c Condition) Valid() bool {
	return c >= MinCondition && c <= MaxCondition
}

// ConditionInfo describes one condition in the standard's words and in English.
type ConditionInfo struct {
	ID     Condition
	TextZH string
	TextEN string
}

// conditions is indexed by Condition-1.
var conditions = [...]ConditionInfo{
	{ID: 1, TextZH: "使用通行碼", TextEN: "Passwords are used"},
	{ID: 2, TextZH: "使用預設通行碼", TextEN: "Default passwords are used"},
	{ID: 3, TextZH: "軟體組件不可更新", TextEN: "Software components are not updateable"},
	{ID: 4, TextZH: "受限制設備", TextEN: "Constrained device"},
	{ID: 5, TextZH: "非受限制設備", TextEN: "Non-constrained device"},
	{ID: 6, TextZH: "收集遙測數據", TextEN: "Telemetry data is collected"},
	{ID: 7, TextZH: "基於使用者同意的基礎下處理個人資料", TextEN: "Personal data is processed on the basis of user consent"},
	{ID: 8, TextZH: "提供使用者認證的設備", TextEN: "Device provides user authentication"},
	{ID: 9, TextZH: "支援自動更新及/或更新通知的設備", TextEN: "Device supports automatic updates and/or update notifications"},
	{ID: 10, TextZH: "基於安全起見，設備識別使用硬編碼(hard-coded)唯一性", TextEN: "For security purposes, the device uses a hard-coded unique identity"},
	{ID: 11, TextZH: "更新是透過網路介面傳輸", TextEN: "Updates are delivered over a network interface"},
	{ID: 12, TextZH: "有更新機制", TextEN: "An update mechanism exists"},
	{ID: 13, TextZH: "除錯介面是透過實體存取", TextEN: "A debug interface is physically accessible"},
}

// Conditions returns all thirteen conditions in order.
func Conditions() []ConditionInfo {
	return append([]ConditionInfo(nil), conditions[:]...)
}

// ConditionText returns the description of c, or false when c is not defined.
func ConditionText(c Condition) (ConditionInfo, bool) {
	if !c.Valid() {
		return ConditionInfo{}, false
	}
	return conditions[c-1], true
}

// ErrInvalidCondition is wrapped by every error returned from ParseConditions.
var ErrInvalidCondition = errors.New("invalid condition")

// ParseConditions parses a comma-separated list of condition numbers, such as
// "1,2,5,12", into the set of conditions a product meets. Spaces around numbers
// are ignored and repeated numbers are accepted. A blank string is the empty
// set. Empty list elements, non-numbers and numbers outside 1 to 13 are errors.
func ParseConditions(s string) (map[Condition]bool, error) {
	met := make(map[Condition]bool)
	if strings.TrimSpace(s) == "" {
		return met, nil
	}
	for i, part := range strings.Split(s, ",") {
		c, err := parseCondition(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i+1, err)
		}
		met[c] = true
	}
	return met, nil
}

func parseCondition(s string) (Condition, error) {
	if s == "" {
		return 0, fmt.Errorf("empty element: %w", ErrInvalidCondition)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number: %w", s, ErrInvalidCondition)
	}
	c := Condition(n)
	if !c.Valid() {
		return 0, fmt.Errorf("%d is outside %d-%d: %w", n, MinCondition, MaxCondition, ErrInvalidCondition)
	}
	return c, nil
}

// FormatConditions renders conditions the way Table 1 prints them inside the
// parentheses, e.g. "9, 12". It returns "" for none.
func FormatConditions(cs []Condition) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = strconv.Itoa(int(c))
	}
	return strings.Join(parts, ", ")
}
