package commands

import (
	"errors"
	"slices"
	"strings"

	"cloister/lists"
	"cloister/rules"
)

// SafeSettings are the list settings owners may change by mail. Settings
// that touch encryption, keys, scenarios and who may post are changed on the
// server only (`cloister list set`), so a stolen owner key cannot open an
// encrypted list. No scenario setting may ever join them: admin and moderate
// decide who may give these very commands, and key who may change a
// subscriber's key (security invariant 3), so a mail command must not be
// able to widen them (TestScenarioOperationsHaveSettings checks this).
var SafeSettings = []string{
	"subject_prefix", "footer", "reply_to", "max_message_size_kb", "max_recipients",
	"held_expire_days", "token_expire_hours", "advertised", "language", "subscribe_policy",
	"unsubscribe_policy", "roster",
}

// Set changes the sender's delivery, or (owners) a setting of the list.
type Set struct{}

// Name implements Command.
func (Set) Name() string { return "set" }

// Aliases implements Command.
func (Set) Aliases() []string { return nil }

// Args implements Command.
func (Set) Args() string { return "delivery on|off|digest  |  SETTING VALUE" }

// Help implements Command.
func (Set) Help() string {
	return "turn delivery of posts to you on or off, or to a digest; (owners) set a list setting: " + strings.Join(SafeSettings, ", ")
}

// Operation implements Command: delivery needs no scenario (the sender
// confirms unless signed); settings are owner commands.
func (Set) Operation() string { return OpAdmin }

// Run implements Command.
func (cmd Set) Run(c *Context, args []string) Result {
	if len(args) < 2 {
		return refused("usage: set delivery on|off, or set SETTING VALUE")
	}
	name := strings.ToLower(args[0])
	if name == "delivery" {
		return cmd.delivery(c, strings.ToLower(args[1]))
	}
	if !slices.Contains(SafeSettings, name) {
		return refused("%q cannot be set by mail (settable: %s)", name, strings.Join(SafeSettings, ", "))
	}
	d, err := c.Authorize(OpAdmin)
	if err != nil {
		return failed(err)
	}
	if d.Action != rules.ScenarioDoIt {
		return refusal(d)
	}
	value := strings.Join(args[1:], " ")
	err = c.Site.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List(c.List.Address)
		if err != nil {
			return err
		}
		if err := l.Settings.Set(name, value); err != nil {
			return err
		}
		return tx.PutList(l)
	})
	if errors.Is(err, lists.ErrBadSetting) || errors.Is(err, lists.ErrUnknownSetting) {
		return refused("%v", err)
	}
	if err != nil {
		return failed(err)
	}
	return done("%s is now %q", name, value)
}

// delivery turns delivery on or off; unsigned requests are confirmed first,
// so a forged From cannot stop someone's mail.
func (cmd Set) delivery(c *Context, v string) Result {
	var want lists.Delivery
	switch v {
	case "on", "enabled", "yes":
		want = lists.DeliveryEnabled
	case "off", "disabled", "no", "nomail":
		want = lists.DeliveryDisabled
	case "digest":
		want = lists.DeliveryDigest
	default:
		return refused("usage: set delivery on|off|digest")
	}
	if !isMember(c, c.Sender) {
		return refused("%s is not subscribed to %s", c.Sender, c.List.Address)
	}
	if c.Method == rules.MethodSMTP && !c.Confirmed {
		return c.askConfirm(cmd, []string{"delivery", v}, c.Sender, "turn delivery of "+c.List.Address+" "+v+" for "+c.Sender)
	}
	err := c.Site.Lists.Update(func(tx *lists.Tx) error {
		m, err := tx.Member(c.List.Address, c.Sender)
		if err != nil {
			return err
		}
		m.Delivery = want
		return tx.PutMember(c.List.Address, m)
	})
	if err != nil {
		return failed(err)
	}
	return done("delivery of posts to %s is %s", c.Sender, want)
}
