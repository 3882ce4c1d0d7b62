package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"cloister/archive"
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
	if res, ok := mayRead(c); !ok {
		return res
	}
	entries, err := archive.For(c.Site, c.List.Address).Entries()
	if err != nil {
		return failed(err)
	}
	if len(entries) == 0 {
		return done("the archive of %s is empty", c.List.Address)
	}
	sums, err := archive.Index(c.Site, c.List.Address, maxIndex)
	if err != nil {
		return failed(err)
	}
	// Headers of posts archived encrypted go only to someone whose reply is
	// encrypted (a key on file): the reply is sealed to it.
	keyed := c.hasKey()
	var b strings.Builder
	for _, sum := range sums {
		date, from, subject := clipLine(sum.Date), clipLine(sum.From), clipLine(sum.Subject)
		if sum.Encrypted && !keyed {
			date, from, subject = "(encrypted post; send your key to see its header)", "", ""
		}
		fmt.Fprintf(&b, "  %5d  %s  %s  %s\n", sum.N, date, from, subject)
	}
	return done("%d posts in the archive of %s; send \"get N\" for one:\n%s", len(entries), c.List.Address, strings.TrimRight(b.String(), "\n"))
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
	if res, ok := mayRead(c); !ok {
		return res
	}
	msg, err := archive.Get(c.Site, c.List.Address, n)
	if errors.Is(err, archive.ErrNoEntry) {
		entries, _ := archive.For(c.Site, c.List.Address).Entries()
		return refused("the archive has %d posts", len(entries))
	}
	if err != nil {
		return failed(err)
	}
	st := c.List.Settings
	forced := st.PGPDistribEncrypt == "force" || st.SMIMEDistribEncrypt == "force"
	if (msg.Encrypted || forced) && !c.hasKey() {
		return refused("posts of this list are sent encrypted only, and no key of yours is on file")
	}
	if len(msg.Raw) > maxGetSize {
		return refused("post %d is larger than %d MiB and cannot be sent by mail", n, maxGetSize>>20)
	}
	c.attach = append(c.attach, attachment{Type: "message/rfc822", Name: fmt.Sprintf("post-%d.eml", n), Data: msg.Raw, Raw: true})
	c.attachConfidential = c.attachConfidential || msg.Encrypted
	return done("post %d is attached", n)
}

// mayRead checks the archive setting and the get scenario.
func mayRead(c *Context) (Result, bool) {
	if c.List.Settings.Archive == "none" {
		return refused("this list keeps no archive"), false
	}
	d, err := c.Authorize("get")
	if err != nil {
		return failed(err), false
	}
	if d.Action != rules.ScenarioDoIt {
		return refusal(d), false
	}
	return Result{}, true
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
