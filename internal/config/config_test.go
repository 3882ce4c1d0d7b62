package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

func TestParseStrictAndDefaults(t *testing.T) {
	c, err := Parse([]byte("state_dir = \"/x\"\ndomain = \"Lists.Example.ORG\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPAddr != DefaultSMTPAddr || c.MaxMessageSizeKB != DefaultMaxMessageSizeKB || c.MaxAttempts != DefaultMaxAttempts || c.Domain != "lists.example.org" {
		t.Fatalf("defaults not applied: %+v", c)
	}
	if _, err := Parse([]byte("state_dir = \"/x\"\nbogus = 1\n")); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown key accepted: %v", err)
	}
	if _, err := Parse([]byte("state_dir = [\n")); err == nil || !strings.Contains(err.Error(), "line") {
		t.Fatalf("syntax error without position: %v", err)
	}
}

func TestCheckReportsEveryProblem(t *testing.T) {
	c, _ := Parse([]byte("domain = \"bad domain\"\nsmtp_addr = \"nope\"\nmax_attempts = -1\nmetrics_listen = \"0.0.0.0:9000\"\n"))
	err := c.Check()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"state_dir", "domain", "smtp_addr", "max_attempts", "loopback"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestLoadResolvesRelativeStateDir(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cloister.toml")
	os.WriteFile(p, []byte("state_dir = \"var\"\ndomain = \"l.test\"\n"), 0o600)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.StateDir != filepath.Join(dir, "var") {
		t.Fatalf("state_dir = %s", c.StateDir)
	}
	t.Setenv("CLOISTER_CONFIG", p)
	if got, _ := Find(""); got != p {
		t.Fatalf("Find = %s", got)
	}
}

// TestSampleCoversEveryKey keeps etc/cloister.toml and Sample in step with
// the Config struct: every key is named, and the file parses strictly.
func TestSampleCoversEveryKey(t *testing.T) {
	file, err := os.ReadFile(filepath.Join(testdirs.Root(t), "etc", "cloister.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(file) != Sample("/var/lib/cloister", "lists.example.org", DefaultSMTPAddr) {
		t.Fatalf("etc/cloister.toml differs from config.Sample: regenerate it")
	}
	if _, err := Parse(file); err != nil {
		t.Fatal(err)
	}
	ty := reflect.TypeOf(Config{})
	for i := 0; i < ty.NumField(); i++ {
		key := ty.Field(i).Tag.Get("toml")
		if key == "-" {
			continue
		}
		if !strings.Contains(string(file), key+" = ") {
			t.Errorf("the sample does not mention %s", key)
		}
	}
}
