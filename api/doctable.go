package api

import (
	"fmt"
	"strings"
)

// EndpointTable is the Markdown table of every route (method, path, least
// scope, summary) that docs/api.md shows; a test keeps the doc equal to it.
func EndpointTable() string {
	var b strings.Builder
	b.WriteString("| method | path | least scope | what |\n|---|---|---|---|\n")
	for _, r := range Routes() {
		fmt.Fprintf(&b, "| `%s` | `%s` | `%s` | %s |\n", r.Method, r.Path, r.Scope, r.Summary)
	}
	return b.String()
}
