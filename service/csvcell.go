package service

import "strings"

// formulaStart are the first characters that make a spreadsheet read a
// CSV cell as a formula (=HYPERLINK(...), +cmd|..., -, @, tab, CR).
const formulaStart = "=+-@\t\r"

// csvCell writes a member's free text (address, name) into a CSV export so
// that a spreadsheet opening it shows it as text: a cell that would start a
// formula gets a leading apostrophe. A subscriber chooses their own name,
// and an owner opens the export.
func csvCell(s string) string {
	if s != "" && strings.IndexByte(formulaStart, s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// csvUncell reads back what csvCell wrote, so that an export imports as
// it was.
func csvUncell(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.IndexByte(formulaStart, s[1]) >= 0 {
		return s[1:]
	}
	return s
}
