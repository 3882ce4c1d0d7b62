package commands

import (
	"context"
	"slices"
	"strings"

	"cloister/lists"
	"cloister/rules"
	"cloister/service"
)

// SafeSettings are the list settings owners may change by mail. Settings
// that touch encryption, keys, scenarios and who may post are changed on the
// server only (`cloister list set`), so a stolen owner key cannot open an
// encrypted list. No scenario setting may ever join them: admin and moderate
// decide who may give these very commands, and key who may change a
// subscriber's key (security invariant 3), so a mail command must not be
// able to widen them (TestScenarioOperationsHaveSettings checks this).
var SafeSettings = service.OwnerSettings

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
	return "turn delivery of posts to you on or off, or to a digest; (owners) set a list setting: subject_prefix, footer, reply_to, max_message_size_kb, max_recipients, held_expire_days, token_expire_hours, advertised, language, subscribe_policy, unsubscribe_policy, roster"
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
	value := strings.Join(args[1:], " ")
	_, err := c.service().ListSet(context.Background(), c.actor(), service.ListSetRequest{
		List: c.List.Address, Settings: map[string]string{name: value}})
	if err != nil {
		return serviceResult(err)
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
		// Asked here, not by the service, so that the token re-runs this
		// very line (set delivery v).
		return c.askConfirm(cmd, []string{"delivery", v}, c.Sender, rules.Reasonf("turn delivery of %s %s for %s", c.List.Address, v, c.Sender))
	}
	m, err := c.service().MemberSetDelivery(context.Background(), c.actor(), service.MemberDeliveryRequest{
		List: c.List.Address, Address: c.Sender, Delivery: string(want)})
	if err != nil {
		return serviceResult(err)
	}
	return done("delivery of posts to %s is %s", c.Sender, m.Delivery)
}
