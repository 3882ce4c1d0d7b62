package rules

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestChainDocs keeps the posting-chain table of docs/owners.md true to
// PostingChain: the same rules, in the same order, with their actions and
// descriptions.
func TestChainDocs(t *testing.T) {
	doc, err := os.ReadFile("../docs/owners.md")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range PostingChain {
		want = append(want, fmt.Sprintf("| `%s` | %s | %s |", l.Rule.Name(), l.Action, l.Rule.Description()))
	}
	row := regexp.MustCompile("(?m)^\\| `[a-z-]+` \\| (hold|owner|reject|discard) \\| .*\\|$")
	got := row.FindAllString(string(doc), -1)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("docs/owners.md chain table is out of date; want:\n%s\n\nhave:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
}
