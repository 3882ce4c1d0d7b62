package commands

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"cloister/mailmsg"
	"cloister/rules"
)

// Bounds of the archive commands.
const (
	maxIndex   = 200      // posts listed by one index reply
	maxGetSize = 10 << 20 // largest post sent by get
)

// Index lists the archived posts, numbered for get.
type Index struct{}

// Name implements Command.
func (Index) Name() string { return "index" }

// Aliases implements Command.
func (Index) Aliases() []string { return nil }

// Args implements Command.
func (Index) Args() string { return "" }

// Help implements Command.
func (Index) Help() string {
	return "the archived posts, numbered (the latest 200), if the list lets you fetch them"
}

// Operation implements Command.
func (Index) Operation() string { return "get" }

// Run implements Command.
func (Index) Run(c *Context, args []string) Result {
	files, res, ok := archived(c)
	if !ok {
		return res
	}
	if len(files) == 0 {
		return done("the archive of %s is empty", c.List.Address)
	}
	var b strings.Builder
	first := max(0, len(files)-maxIndex)
	for i := first; i < len(files); i++ {
		date, from, subject := summary(files[i])
		fmt.Fprintf(&b, "  %5d  %s  %s  %s\n", i+1, date, from, subject)
	}
	return done("%d posts in the archive of %s; send \"get N\" for one:\n%s", len(files), c.List.Address, strings.TrimRight(b.String(), "\n"))
}

// Get sends one archived post.
type Get struct{}

// Name implements Command.
func (Get) Name() string { return "get" }

// Aliases implements Command.
func (Get) Aliases() []string { return nil }

// Args implements Command.
func (Get) Args() string { return "N" }

// Help implements Command.
func (Get) Help() string { return "the archived post numbered N in the index, attached" }

// Operation implements Command.
func (Get) Operation() string { return "get" }

// Run implements Command.
func (Get) Run(c *Context, args []string) Result {
	if len(args) != 1 {
		return refused("usage: get N (the number from index)")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		return refused("usage: get N (the number from index)")
	}
	files, res, ok := archived(c)
	if !ok {
		return res
	}
	if n > len(files) {
		return refused("the archive has %d posts", len(files))
	}
	st := c.List.Settings
	if (st.PGPDistribEncrypt == "force" || st.SMIMEDistribEncrypt == "force") && !c.hasKey() {
		return refused("this list sends posts encrypted only, and no key of yours is on file")
	}
	fi, err := os.Stat(files[n-1])
	if err != nil {
		return failed(err)
	}
	if fi.Size() > maxGetSize {
		return refused("post %d is larger than %d MiB and cannot be sent by mail", n, maxGetSize>>20)
	}
	b, err := os.ReadFile(files[n-1])
	if err != nil {
		return failed(err)
	}
	c.attach = append(c.attach, attachment{Type: "message/rfc822", Name: fmt.Sprintf("post-%d.eml", n), Data: b, Raw: true})
	return done("post %d is attached", n)
}

// archived checks the get scenario and the archive setting and returns the
// archive's files, oldest first.
func archived(c *Context) ([]string, Result, bool) {
	if c.List.Settings.Archive == "none" {
		return nil, refused("this list keeps no archive"), false
	}
	d, err := c.Authorize("get")
	if err != nil {
		return nil, failed(err), false
	}
	if d.Action != rules.ScenarioDoIt {
		return nil, refusal(d), false
	}
	dir := c.Site.Config.ArchiveDir(c.List.Address)
	var files []string
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil && !os.IsNotExist(err) {
			return nil, failed(err), false
		}
		for _, e := range ents {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(dir, sub, e.Name()))
			}
		}
	}
	// Entry ids start with the time received, so names sort by date.
	sort.Slice(files, func(i, j int) bool { return filepath.Base(files[i]) < filepath.Base(files[j]) })
	return files, Result{}, true
}

// summary reads the date, sender and subject of an archived post.
func summary(path string) (date, from, subject string) {
	f, err := os.Open(path)
	if err != nil {
		return "?", "?", "?"
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, _ := f.Read(head)
	head = head[:n]
	if i := strings.Index(string(head), "\n\n"); i >= 0 {
		head = head[:i+2]
	} else if i := strings.Index(string(head), "\r\n\r\n"); i >= 0 {
		head = head[:i+4]
	}
	m, err := mailmsg.Parse(head)
	if err != nil {
		return "?", "?", "?"
	}
	from, _ = m.FromAddress()
	return clipLine(m.Get("Date")), clipLine(from), clipLine(mailmsg.DecodeHeader(m.Get("Subject")))
}

// hasKey reports whether a key or certificate to encrypt to is on file for
// the sender (and the list has the key to sign with, which sealing needs).
func (c *Context) hasKey() bool {
	if c.Site.Keys == nil {
		return false
	}
	k, err := loadListKeys(c.Site, c.List.Address)
	if err != nil {
		return false
	}
	if _, err := c.Site.Keys.EncryptionPGP(c.Sender, c.Now); err == nil && k.pgp != nil {
		return true
	}
	if _, err := c.Site.Keys.EncryptionCert(c.Sender, c.Now); err == nil && k.cert != nil {
		return true
	}
	return false
}
