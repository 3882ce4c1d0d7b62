package migrate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"strconv"
	"strings"
)

// mailman3Config is what an import reads of a Mailman 3 list's
// configuration, as its REST API returns it (GET /3.1/lists/LIST/config).
type mailman3Config struct {
	FQDNListname           string      `json:"fqdn_listname"`
	DisplayName            string      `json:"display_name"`
	Description            string      `json:"description"`
	SubjectPrefix          *string     `json:"subject_prefix"`
	PreferredLanguage      string      `json:"preferred_language"`
	MaxMessageSize         json.Number `json:"max_message_size"`
	SubscriptionPolicy     string      `json:"subscription_policy"`
	ReplyGoesToList        string      `json:"reply_goes_to_list"`
	ReplyToAddress         string      `json:"reply_to_address"`
	Advertised             *bool       `json:"advertised"`
	DefaultMemberAction    string      `json:"default_member_action"`
	DefaultNonmemberAction string      `json:"default_nonmember_action"`
	ArchivePolicy          string      `json:"archive_policy"`
}

// mailman3Member is one entry of a Mailman 3 roster as its REST API
// returns it (GET /3.1/lists/LIST/roster/ROLE or /3.1/members/find).
type mailman3Member struct {
	Email        string `json:"email"`
	DisplayName  string `json:"display_name"`
	Role         string `json:"role"`
	DeliveryMode string `json:"delivery_mode"`
	ListID       string `json:"list_id"`
}

// Roster is one exported roster of a Mailman 3 list: a file and the role
// of the people it names when it does not say (the text of `mailman
// members`, or REST entries without a role).
type Roster struct {
	Path, Role string
}

// Mailman3 reads a Mailman 3 list from its exported data: configFile is
// the list's configuration as JSON (the REST API's GET
// /3.1/lists/LIST/config), and each roster is either JSON (the REST API's
// {"entries": [...]} of /3.1/lists/LIST/roster/ROLE or /3.1/members/find,
// each entry with its role) or the text `mailman members` prints ("Name
// <address>" or an address a line).
func Mailman3(configFile string, rosters []Roster) (*Plan, error) {
	b, err := os.ReadFile(configFile)
	if err != nil {
		return nil, fmt.Errorf("mailman 3 config: %w", err)
	}
	var c mailman3Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("mailman 3 config %s: %w", configFile, err)
	}
	if c.FQDNListname == "" {
		return nil, fmt.Errorf("mailman 3 config %s names no fqdn_listname: is it GET /3.1/lists/LIST/config?", configFile)
	}
	p := &Plan{Address: strings.ToLower(c.FQDNListname), Description: c.Description, Style: "discussion"}
	if p.Description == "" {
		p.Description = c.DisplayName
	}
	mailman3Settings(p, c)
	seen := map[string]int{}
	for _, r := range rosters {
		f := r.Path
		ms, err := mailman3Roster(f, r.Role)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m.ListID != "" && m.ListID != strings.Replace(p.Address, "@", ".", 1) {
				return nil, fmt.Errorf("mailman 3 roster %s: %s is of list %s, not %s", f, m.Email, m.ListID, p.Address)
			}
			addr, err := mail.ParseAddress(m.Email)
			if err != nil {
				p.note(fmt.Sprintf("roster %s: %q left out: %v", f, m.Email, err))
				continue
			}
			key := strings.ToLower(addr.Address)
			i, ok := seen[key]
			if !ok {
				i = len(p.Members)
				seen[key] = i
				p.Members = append(p.Members, Member{Address: key, Name: m.DisplayName, Delivery: "enabled"})
			}
			pm := &p.Members[i]
			if pm.Name == "" {
				pm.Name = m.DisplayName
			}
			switch m.Role {
			case "owner":
				pm.Owner = true
			case "moderator":
				pm.Moderator = true
			case "member", "":
				pm.Member = true
				switch m.DeliveryMode {
				case "mime_digests", "plaintext_digests", "summary_digests":
					pm.Delivery = "digest"
				}
			case "nonmember":
				p.note(key + ": a nonmember record, left out")
				p.Members = p.Members[:len(p.Members)-1]
				delete(seen, key)
			default:
				return nil, fmt.Errorf("mailman 3 roster %s: %s has an unknown role %q", f, key, m.Role)
			}
		}
	}
	return p, nil
}

// mailman3Roster reads one roster file, JSON or `mailman members` text.
func mailman3Roster(path, defaultRole string) ([]mailman3Member, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mailman 3 roster: %w", err)
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		var page struct {
			Entries []mailman3Member `json:"entries"`
		}
		if t[0] == '[' {
			err = json.Unmarshal(t, &page.Entries)
		} else {
			err = json.Unmarshal(t, &page)
		}
		if err != nil {
			return nil, fmt.Errorf("mailman 3 roster %s: %w", path, err)
		}
		for i := range page.Entries {
			if page.Entries[i].Role == "" {
				page.Entries[i].Role = defaultRole
			}
		}
		return page.Entries, nil
	}
	var out []mailman3Member
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		a, err := mail.ParseAddress(line)
		if err != nil {
			return nil, fmt.Errorf("mailman 3 roster %s line %d: %q: %v", path, n, line, err)
		}
		out = append(out, mailman3Member{Email: a.Address, DisplayName: a.Name, Role: defaultRole, DeliveryMode: "regular"})
	}
	return out, sc.Err()
}

// mailman3Settings maps a Mailman 3 list's configuration to Cloister settings.
func mailman3Settings(p *Plan, c mailman3Config) {
	switch {
	case c.DefaultMemberAction == "hold":
		p.Style = "moderated"
	case c.DefaultMemberAction == "reject" || c.DefaultMemberAction == "discard":
		p.Style = "announce"
		p.note("members may not post (default_member_action " + c.DefaultMemberAction + "): an announce list, moderators post")
	}
	switch c.DefaultNonmemberAction {
	case "accept":
		if p.Style == "discussion" {
			p.set("send", "send.public")
		}
	case "hold", "defer":
		p.note("nonmembers' posts were held for the moderators (default_nonmember_action " + c.DefaultNonmemberAction + "); the style's send scenario decides now")
	}
	if c.SubjectPrefix != nil {
		p.set("subject_prefix", *c.SubjectPrefix)
	}
	if c.PreferredLanguage != "" {
		p.set("language", c.PreferredLanguage)
	}
	if n, err := strconv.Atoi(c.MaxMessageSize.String()); err == nil && n > 0 {
		p.set("max_message_size_kb", strconv.Itoa(n))
	}
	switch c.SubscriptionPolicy {
	case "open":
		p.set("subscribe_policy", "open")
		p.set("subscribe", "subscribe.open")
	case "confirm":
		p.set("subscribe_policy", "confirm")
	case "moderate":
		p.set("subscribe_policy", "approve")
		p.set("subscribe", "subscribe.owner")
	case "confirm_then_moderate":
		p.set("subscribe_policy", "confirm+approve")
	}
	switch c.ReplyGoesToList {
	case "point_to_list":
		p.set("reply_to", "list")
	case "explicit_header", "explicit_header_only":
		if c.ReplyToAddress != "" {
			p.set("reply_to", strings.ToLower(c.ReplyToAddress))
		}
	}
	if c.Advertised != nil {
		p.set("advertised", map[bool]string{true: "yes", false: "no"}[*c.Advertised])
	}
	switch c.ArchivePolicy {
	case "never":
		p.set("archive", "none")
	case "private":
		p.set("archive", "private")
	case "public":
		p.set("archive", "public")
	}
}
