package api_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cloister/api"
	"cloister/internal/testdirs"
)

// docBlocks returns the fenced blocks that follow the markers
// "<!-- api-example: NAME -->" in docs/api.md, in order, and the block after
// "<!-- api-example-output -->".
func docBlocks(t *testing.T) (script []string, output string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := func(rest string) string {
		_, rest, _ = strings.Cut(rest, "```")
		_, rest, _ = strings.Cut(rest, "\n")
		body, _, _ := strings.Cut(rest, "```")
		return body
	}
	doc := string(b)
	for _, part := range strings.Split(doc, "<!-- api-example: ")[1:] {
		script = append(script, block(part))
	}
	_, out, ok := strings.Cut(doc, "<!-- api-example-output -->")
	if !ok {
		t.Fatal("docs/api.md has no example output block")
	}
	return script, block(out)
}

// TestDocExamples runs docs/api.md's curl examples, in one shell, against
// the real daemon on its Unix socket and over TLS, and compares what they
// print with the output the doc shows.
func TestDocExamples(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is not installed: run test/setup.sh")
	}
	if _, err := exec.LookPath("jq"); err != nil {
		t.Fatal("jq is not installed: run test/setup.sh")
	}
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	s := &site{t: t, dir: dir, config: filepath.Join(state, "cloister.toml")}
	s.run("init", "--state-dir", state, "--domain", "lists.example.org", "--smtp", "127.0.0.1:1")
	s.run("list", "create", "team@lists.example.org")
	sock := filepath.Join(dir, "api.sock")
	s.startDaemon("--socket", sock)
	tlsd := s.startDaemon("--listen", "127.0.0.1:0")

	blocks, want := docBlocks(t)
	if len(blocks) < 4 {
		t.Fatalf("only %d example blocks", len(blocks))
	}
	script := "set -euo pipefail\n" + strings.Join(blocks, "\n")
	script = strings.NewReplacer(
		"/run/cloister/api.sock", sock,
		"/var/lib/cloister", state,
		"https://127.0.0.1:8443", tlsd.base,
	).Replace(script)
	work := filepath.Join(dir, "work")
	os.Mkdir(work, 0o700)
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "CLOISTER_CONFIG="+s.config,
		"PATH="+filepath.Dir(cloisterBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("the examples failed: %v\n%s\n%s", err, out, stderr)
	}
	if string(out) != want {
		t.Fatalf("the examples print:\n%s\ndocs/api.md shows:\n%s", out, want)
	}
}

// TestOpenAPIValidates fetches /openapi.json from the daemon (without a
// token) and has an OpenAPI 3.1 validator check it against the
// specification's schema.
func TestOpenAPIValidates(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	if _, err := exec.LookPath("validate-api"); err != nil {
		t.Fatal("validate-api is not installed: run test/setup.sh")
	}
	s := newSite(t)
	d := s.startDaemon("--socket", s.dir+"/api.sock")
	r := d.do(t, "", "GET", "/openapi.json", "", nil)
	if r.status != 200 {
		t.Fatalf("GET /openapi.json = %d %s", r.status, r.body)
	}
	doc := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(doc, r.body, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("validate-api", doc).CombinedOutput()
	var res struct {
		Valid bool `json:"valid"`
	}
	if err != nil || json.Unmarshal(out, &res) != nil || !res.Valid {
		t.Fatalf("validate-api: %v\n%s", err, out)
	}
}

// TestEndpointTableInDoc keeps docs/api.md's endpoint table equal to the
// route table.
func TestEndpointTableInDoc(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- endpoints -->\n")
	table, _, ok2 := strings.Cut(rest, "<!-- end endpoints -->")
	if !ok || !ok2 {
		t.Fatal("docs/api.md has no endpoints table")
	}
	if want := api.EndpointTable(); table != want {
		t.Fatalf("docs/api.md's endpoint table differs from the routes; it should be:\n%s", want)
	}
}
