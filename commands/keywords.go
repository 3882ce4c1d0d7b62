package commands

import (
	"strings"

	"cloister/internal/listaddr"
	"cloister/lists"
	"cloister/queue"
	"cloister/rules"
)

// hasWord reports whether the space-separated setting value names word.
func hasWord(setting, word string) bool {
	for _, w := range strings.Fields(setting) {
		if w == word {
			return true
		}
	}
	return false
}

// adminOnly refuses a command that the list's keywords_admin_only keeps for
// its owners (after Schleuder's option of that name) to anyone the admin
// scenario does not let give owner commands; ok is false when refused.
func adminOnly(c *Context, cmd Command) (res Result, ok bool) {
	if !hasWord(c.List.Settings.KeywordsAdminOnly, cmd.Name()) {
		return Result{}, true
	}
	d, err := c.Authorize(OpAdmin)
	if err != nil {
		return failed(err), false
	}
	if d.Action != rules.ScenarioDoIt {
		return refused("on this list only the owners may use %s (keywords_admin_only): %s", cmd.Name(), phrase(reasonText(d.Reason))), false
	}
	return Result{}, true
}

// notifyKeyword tells the list's owners that a command the list names in
// keywords_admin_notify was used (after Schleuder's option of that name):
// who, which command, and its status. The arguments are named only when
// the command mail arrived in clear, so that the notice holds nothing of
// an encrypted mail.
func notifyKeyword(c *Context, cmd Command, l Line, res Result) {
	if !hasWord(c.List.Settings.KeywordsAdminNotify, cmd.Name()) {
		return
	}
	var owners []string
	err := c.Site.Lists.View(func(tx *lists.Tx) error {
		return tx.ForEachMember(c.List.Address, func(m *lists.Member) error {
			if m.IsOwner() && !sameAddress(m.Address, c.Sender) {
				owners = append(owners, m.Address)
			}
			return nil
		})
	})
	if err != nil {
		return // a notice is not worth failing the command for
	}
	what := cmd.Name()
	if !c.Encrypted && len(l.Args) > 0 {
		what = clip(cmd.Name()+" "+strings.Join(l.Args, " "), 200)
	}
	body := c.tr("%s used the command\n\n  %s\n\non %s (authenticated: %s). Result: %s.\n\n"+
		"You are told because the list's keywords_admin_notify names %s.\n",
		c.Sender, what, c.List.Address, c.Method, res.Status, cmd.Name())
	subject := c.tr("Command %s used on %s", cmd.Name(), c.List.Address)
	for _, o := range owners {
		c.send(&message{
			List: c.List.Address, From: listaddr.Address(c.List.Address, queue.SubOwner), To: o,
			Subject: subject, Body: body,
		}, "notice")
	}
}

// clip shortens s to at most n bytes, at a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
