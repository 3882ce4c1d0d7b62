package moderation

import (
	"fmt"
	"strings"
	"sync"

	"cloister/internal/site"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/queue"
	"cloister/rules"
)

// PostEnv is the scenario environment of a post, from the metadata the
// incoming runner wrote: the sender is the From address, the method is
// Meta.Auth (smtp when unset), the signer is the signer address that equals
// the sender (else the first one), is_encrypted is true when the post arrived
// encrypted and is_signed when its signature verdict is good. The Roster is
// left for the caller.
func PostEnv(list *lists.List, m *queue.Meta, msg *mailmsg.Message, size int) rules.Env {
	signer := ""
	for _, a := range m.SignerAddresses {
		if strings.EqualFold(a, m.From) {
			signer = a
			break
		}
	}
	if signer == "" && len(m.SignerAddresses) > 0 {
		signer = m.SignerAddresses[0]
	}
	method := m.Auth
	if method == "" {
		method = rules.MethodSMTP
	}
	return rules.Env{
		Sender:    m.From,
		ListName:  list.Address,
		Signer:    signer,
		Method:    method,
		Encrypted: m.ArrivedEncrypted(),
		Signed:    m.Verdict == "good",
		Size:      int64(size),
		Header:    msg.Values,
	}
}

// EvaluateSend evaluates the list's send scenario for a post, with a roster
// read from the list store.
func EvaluateSend(s *site.Site, list *lists.List, m *queue.Meta, msg *mailmsg.Message, size int) (rules.Decision, error) {
	sc, err := Scenarios(s).Get(list.Settings.Send)
	if err != nil {
		return rules.Decision{}, err
	}
	env := PostEnv(list, m, msg, size)
	var d rules.Decision
	err = s.Lists.View(func(tx *lists.Tx) error {
		env.Roster = rules.ListsRoster{Tx: tx, Listmasters: s.Config.Listmasters, Domain: s.Config.Domain}
		d, _ = sc.Evaluate(env)
		return nil
	})
	return d, err
}

var (
	scenarioSetsMu sync.Mutex
	scenarioSets   = map[string]*rules.ScenarioSet{}
)

// Scenarios returns the site's scenario set (built-ins overridden by the
// configured scenario_dir), shared by every runner and command of the
// process so that parsed scenarios are cached.
func Scenarios(s *site.Site) *rules.ScenarioSet {
	scenarioSetsMu.Lock()
	defer scenarioSetsMu.Unlock()
	ss, ok := scenarioSets[s.Config.ScenarioDir]
	if !ok {
		ss = rules.NewScenarioSet(s.Config.ScenarioDir)
		scenarioSets[s.Config.ScenarioDir] = ss
	}
	return ss
}

// Describe renders a scenario decision for Meta.Decision and the logs.
func Describe(d rules.Decision) string {
	if d.Line == 0 {
		return fmt.Sprintf("%s (scenario %s, method %s, no rule matched)", d, d.Scenario, d.Method)
	}
	return fmt.Sprintf("%s (scenario %s line %d, method %s)", d, d.Scenario, d.Line, d.Method)
}

// loadList reads a list in one short transaction.
func loadList(s *site.Site, address string) (*lists.List, error) {
	var l *lists.List
	err := s.Lists.View(func(tx *lists.Tx) error {
		var err error
		l, err = tx.List(address)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", address, err)
	}
	return l, nil
}
