package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"cloister/lists"
	"cloister/rules"
	"cloister/styles"
)

// ListRef names a list: its address, or a bare name in the site's domain.
type ListRef struct {
	List string `json:"list"`
}

// ListListRequest asks for the list directory.
type ListListRequest struct{}

// ListSummary is one line of the list directory.
type ListSummary struct {
	Address     string `json:"address"`
	Description string `json:"description"`
	// Members is the roster's size; shown only to those who may read the
	// list (-1 otherwise).
	Members int `json:"members"`
	// Advertised tells whether the list is shown to everyone.
	Advertised bool `json:"advertised"`
}

// Setting is one list setting with its documentation.
type Setting struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Default string `json:"default"`
	// Type is what the setting accepts, e.g. "no|yes|force" or
	// "integer 1..1000".
	Type string `json:"type"`
	Doc  string `json:"doc"`
	// MailSettable tells whether list owners may change it (by mail, on
	// the web, with an owner token); the others are changed by the site's
	// operator only.
	OwnerSettable bool `json:"owner_settable"`
}

// ListInfo is a list with its settings.
type ListInfo struct {
	Address     string    `json:"address"`
	Description string    `json:"description"`
	Created     time.Time `json:"created"`
	Members     int       `json:"members"`
	Settings    []Setting `json:"settings"`
	// Style is the style applied by this call (empty if none).
	Style string `json:"style,omitempty"`
	// MadeKeys are the list keys this call made (a style's keys).
	MadeKeys []MadeKey `json:"made_keys,omitempty"`
}

// MadeKey is a list key an operation made.
type MadeKey struct {
	// Kind is openpgp or smime.
	Kind        string `json:"kind"`
	Fingerprint string `json:"fingerprint"`
}

// ListCreateRequest creates a list.
type ListCreateRequest struct {
	// Address is the list's address, or a bare name in the site's domain.
	Address     string `json:"address"`
	Description string `json:"description,omitempty"`
	// Style names a style (built-in or the site's) giving the list its
	// settings and list keys.
	Style string `json:"style,omitempty"`
	// Owners are added with the owner and member roles.
	Owners []string `json:"owners,omitempty"`
}

// ListSetRequest changes settings of a list, all or none.
type ListSetRequest struct {
	List     string            `json:"list"`
	Settings map[string]string `json:"settings"`
}

// ListStyleRequest applies a style's settings to an existing list.
type ListStyleRequest struct {
	List  string `json:"list"`
	Style string `json:"style"`
}

// StyleInfo describes one list style.
type StyleInfo struct {
	Name   string `json:"name"`
	Title  string `json:"title"`
	Source string `json:"source"`
	// Keys are the list keys the style makes: openpgp, smime.
	Keys []string `json:"keys,omitempty"`
	// Settings are the settings it sets, in file order, as "name value".
	Settings [][2]string `json:"settings,omitempty"`
}

// OwnerSettings are the list settings owners may change (by mail, on the
// web, with an owner token). Settings that touch encryption, keys,
// scenarios and who may post are changed by the site's operator only, so a
// stolen owner key cannot open an encrypted list. No scenario setting may
// ever join them: admin and moderate decide who may give these very
// commands, and key who may change a subscriber's key, so an owner must
// not be able to widen them.
var OwnerSettings = []string{
	"subject_prefix", "footer", "reply_to", "max_message_size_kb", "max_recipients",
	"held_expire_days", "token_expire_hours", "advertised", "language", "subscribe_policy",
	"unsubscribe_policy", "roster",
}

// listAddress completes a bare list name with the site's domain.
func (s *Service) listAddress(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if name != "" && !strings.Contains(name, "@") {
		name += "@" + s.site.Config.Domain
	}
	return name
}

// loadList reads a list, or a not_found error.
func (s *Service) loadList(name string) (*lists.List, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errorf(CodeInvalid, "no list given")
	}
	addr := s.listAddress(name)
	var l *lists.List
	err := s.site.Lists.View(func(tx *lists.Tx) error {
		var err error
		l, err = tx.List(addr)
		return err
	})
	if errors.Is(err, lists.ErrNoList) {
		return nil, wrapf(err, CodeNotFound, "no list %s", addr)
	}
	if errors.Is(err, lists.ErrBadAddress) {
		return nil, wrapf(err, CodeInvalid, "%v", err)
	}
	if err != nil {
		return nil, internal(err, "read the list")
	}
	return l, nil
}

// storeError turns an error of the list store into an *Error.
func storeError(err error, what string) error {
	var e *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		return err
	case errors.Is(err, lists.ErrNoList), errors.Is(err, lists.ErrNoMember), errors.Is(err, lists.ErrNoHeld):
		return wrapf(err, CodeNotFound, "%v", err)
	case errors.Is(err, lists.ErrListExists), errors.Is(err, lists.ErrMemberExists):
		return wrapf(err, CodeConflict, "%v", err)
	case errors.Is(err, lists.ErrBadSetting), errors.Is(err, lists.ErrUnknownSetting), errors.Is(err, lists.ErrBadAddress),
		errors.Is(err, lists.ErrInvalid):
		return wrapf(err, CodeInvalid, "%v", err)
	}
	return internal(err, what)
}

// settingsOf describes a list's settings.
func settingsOf(l *lists.List) []Setting {
	fs := l.Settings.Fields()
	out := make([]Setting, len(fs))
	for i, f := range fs {
		out[i] = Setting{Name: f.Name, Value: f.Value, Default: f.Default, Type: f.Allowed, Doc: f.Doc,
			OwnerSettable: slices.Contains(OwnerSettings, f.Name)}
	}
	return out
}

// info reads a list's ListInfo.
func (s *Service) info(addr string) (ListInfo, error) {
	var l *lists.List
	var n int
	err := s.site.Lists.View(func(tx *lists.Tx) error {
		var err error
		if l, err = tx.List(addr); err != nil {
			return err
		}
		n, err = tx.CountMembers(addr)
		return err
	})
	if err != nil {
		return ListInfo{}, storeError(err, "read the list")
	}
	return ListInfo{Address: l.Address, Description: l.Description, Created: l.Created, Members: n, Settings: settingsOf(l)}, nil
}

// ListList returns the list directory: every list for the site's admins
// and tokens, the advertised lists and the actor's own for others.
func (s *Service) ListList(ctx context.Context, a Actor, req ListListRequest) ([]ListSummary, error) {
	if err := s.authorize(a, opListList, nil); err != nil {
		return nil, err
	}
	return s.visibleLists(a)
}

// visibleLists is the one lookup of the list directory: the lists an actor
// may know of (a site admin or a token that reads the list: every one,
// with its member count; a person: the advertised ones and those they have
// a role on; an anonymous visitor: the advertised ones). The caller has
// authorized the actor.
func (s *Service) visibleLists(a Actor) ([]ListSummary, error) {
	var out []ListSummary
	err := s.site.Lists.View(func(tx *lists.Tx) error {
		all, err := tx.Lists()
		if err != nil {
			return err
		}
		for _, l := range all {
			sum := ListSummary{Address: l.Address, Description: l.Description, Advertised: l.Settings.Advertised, Members: -1}
			readable := a.isSiteAdmin()
			for _, sc := range a.Scopes {
				if a.Method == MethodToken && sc.covers(ClassRead, l.Address) {
					readable = true
				}
			}
			mine := false
			if a.isPerson() && a.Address != "" {
				m, err := tx.Member(l.Address, a.Address)
				mine = err == nil && len(m.Roles) > 0
			}
			if !readable && !mine && !l.Settings.Advertised {
				continue
			}
			if readable {
				if sum.Members, err = tx.CountMembers(l.Address); err != nil {
					return err
				}
			}
			out = append(out, sum)
		}
		return nil
	})
	if err != nil {
		return nil, internal(err, "read the lists")
	}
	return out, nil
}

// ListShow returns a list with its settings and their documentation.
func (s *Service) ListShow(ctx context.Context, a Actor, req ListRef) (ListInfo, error) {
	l, err := s.loadList(req.List)
	if err != nil {
		return ListInfo{}, err
	}
	if err := s.authorize(a, opListShow, l); err != nil {
		return ListInfo{}, err
	}
	return s.info(l.Address)
}

// scenarioExists refuses a scenario setting (named after its operation:
// send, admin, ...) that names no built-in or site scenario, so that a typo
// cannot leave a list refusing every request of the operation.
func (s *Service) scenarioExists(setting string, st lists.Settings) error {
	if !slices.Contains(rules.ScenarioOperations(), setting) {
		return nil
	}
	name, err := st.Value(setting)
	if err != nil {
		return err
	}
	if _, err := s.scenarios.Get(name); err != nil {
		if errors.Is(err, rules.ErrScenarioNotFound) {
			return errorf(CodeInvalid, "%s: no scenario %s (see cloister scenario ls %s)", setting, name, setting)
		}
		return fmt.Errorf("%s: %w", setting, err)
	}
	return nil
}

// loadStyle reads a style, or an invalid error.
func (s *Service) loadStyle(name string) (*styles.Style, error) {
	st, err := styles.Load(s.site, name)
	if err != nil {
		return nil, wrapf(err, CodeInvalid, "%v", err)
	}
	return st, nil
}

// ListCreate creates a list, with a style's settings and keys when one is
// named, and its owners.
func (s *Service) ListCreate(ctx context.Context, a Actor, req ListCreateRequest) (info ListInfo, err error) {
	addr := s.listAddress(req.Address)
	defer func() { s.audit(a, opListCreate, addr, "", err) }()
	if err := s.authorize(a, opListCreate, nil); err != nil {
		return ListInfo{}, err
	}
	l, err := lists.NewList(addr, s.now())
	if err != nil {
		return ListInfo{}, wrapf(err, CodeInvalid, "%v", err)
	}
	addr = l.Address
	l.Description = req.Description
	var st *styles.Style
	if req.Style != "" {
		if st, err = s.loadStyle(req.Style); err != nil {
			return ListInfo{}, err
		}
		if err := st.Apply(l, s.scenarioExists); err != nil {
			return ListInfo{}, storeError(err, "apply the style")
		}
		if len(st.Keys) > 0 {
			// Opened before the list is made, so that a site without a
			// keyring passphrase fails with nothing done.
			if _, err := s.openKeyring(); err != nil {
				return ListInfo{}, wrapf(err, CodeUnavailable, "style %s makes list keys, but the keyring cannot be opened", st.Name)
			}
		}
	}
	owners := make([]string, 0, len(req.Owners))
	for _, o := range req.Owners {
		c, err := lists.CanonicalAddress(o)
		if err != nil {
			return ListInfo{}, wrapf(err, CodeInvalid, "owner %q: %v", o, err)
		}
		owners = append(owners, c)
	}
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		if err := tx.CreateList(l); err != nil {
			return err
		}
		for _, o := range owners {
			if err := tx.AddMember(l.Address, &lists.Member{Address: o, Roles: []lists.Role{lists.RoleOwner, lists.RoleMember}}); err != nil {
				return fmt.Errorf("owner %s: %w", o, err)
			}
		}
		return s.auditTx(tx, a, opListCreate, l.Address, "", nil)
	})
	if err != nil {
		return ListInfo{}, storeError(err, "create the list")
	}
	var made []MadeKey
	if st != nil && len(st.Keys) > 0 {
		if made, err = s.makeKeys(st, l.Address, false); err != nil {
			return ListInfo{}, err
		}
	}
	info, err = s.info(l.Address)
	if st != nil {
		info.Style = st.Name
	}
	info.MadeKeys = made
	return info, err
}

// ListDelete deletes a list, its members and its held posts' records.
func (s *Service) ListDelete(ctx context.Context, a Actor, req ListRef) (err error) {
	addr := s.listAddress(req.List)
	defer func() { s.audit(a, opListDelete, addr, "", err) }()
	if err := s.authorize(a, opListDelete, nil); err != nil {
		return err
	}
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		if err := tx.DeleteList(addr); err != nil {
			return err
		}
		return s.auditTx(tx, a, opListDelete, addr, "", nil)
	})
	return storeError(err, "delete the list")
}

// ListSet changes settings of a list: all of them or, on any error, none.
// Owners (anyone but the site's admins) may change only OwnerSettings.
func (s *Service) ListSet(ctx context.Context, a Actor, req ListSetRequest) (info ListInfo, err error) {
	addr := s.listAddress(req.List)
	names := make([]string, 0, len(req.Settings))
	for n := range req.Settings {
		names = append(names, n)
	}
	sort.Strings(names)
	defer func() { s.audit(a, opListSet, addr, strings.Join(names, ","), err) }()
	l, err := s.loadList(req.List)
	if err != nil {
		return ListInfo{}, err
	}
	if len(names) == 0 {
		return ListInfo{}, errorf(CodeInvalid, "no setting given")
	}
	if err := s.authorize(a, opListSet, l); err != nil {
		return ListInfo{}, err
	}
	if !a.isSiteAdmin() {
		for _, n := range names {
			if !slices.Contains(OwnerSettings, strings.ToLower(n)) {
				return ListInfo{}, errorf(CodeForbidden, "%q cannot be set by list owners (settable: %s)", n, strings.Join(OwnerSettings, ", "))
			}
		}
	}
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List(addr)
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := l.Settings.Set(n, req.Settings[n]); err != nil {
				return err
			}
			if err := s.scenarioExists(n, l.Settings); err != nil {
				return err
			}
		}
		if err := tx.PutList(l); err != nil {
			return err
		}
		return s.auditTx(tx, a, opListSet, addr, settingsTarget(l, names), nil)
	})
	if err != nil {
		return ListInfo{}, storeError(err, "change the settings")
	}
	return s.info(addr)
}

// ListApplyStyle sets a style's settings on an existing list and makes the
// list keys it names that the list lacks. The site's admins apply any
// style; anyone else must pass the list's admin scenario (as for ListSet)
// and may apply only a style whose every setting is one of OwnerSettings
// and which makes no list key.
func (s *Service) ListApplyStyle(ctx context.Context, a Actor, req ListStyleRequest) (info ListInfo, err error) {
	addr := s.listAddress(req.List)
	defer func() { s.audit(a, opListStyle, addr, req.Style, err) }()
	l, err := s.loadList(addr)
	if err != nil {
		return ListInfo{}, err
	}
	if err := s.authorize(a, opListStyle, l); err != nil {
		return ListInfo{}, err
	}
	st, err := s.loadStyle(req.Style)
	if err != nil {
		return ListInfo{}, err
	}
	if !a.isSiteAdmin() {
		if err := ownerMayApply(st); err != nil {
			return ListInfo{}, err
		}
	}
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List(addr)
		if err != nil {
			return err
		}
		if err := st.Apply(l, s.scenarioExists); err != nil {
			return err
		}
		if err := tx.PutList(l); err != nil {
			return err
		}
		return s.auditTx(tx, a, opListStyle, addr, st.Name, nil)
	})
	if err != nil {
		return ListInfo{}, storeError(err, "apply the style")
	}
	var made []MadeKey
	if len(st.Keys) > 0 {
		if made, err = s.makeKeys(st, addr, true); err != nil {
			return ListInfo{}, err
		}
	}
	info, err = s.info(addr)
	info.Style = st.Name
	info.MadeKeys = made
	return info, err
}

// StyleList returns every list style, built-in and the site's.
func (s *Service) StyleList(ctx context.Context, a Actor) ([]StyleInfo, error) {
	if err := s.authorize(a, opStyleList, nil); err != nil {
		return nil, err
	}
	all, err := styles.All(s.site)
	out := make([]StyleInfo, 0, len(all))
	for _, st := range all {
		out = append(out, StyleInfo{Name: st.Name, Title: st.Title, Source: st.Source, Keys: st.Keys, Settings: st.Sets})
	}
	if err != nil {
		return out, wrapf(err, CodeInvalid, "%v", err)
	}
	return out, nil
}

// settingsTarget is the audit target of a change of settings: each name
// with the value it now has, as Set accepts it (settings hold no secrets:
// the list keys' passphrases and the API tokens are kept elsewhere).
func settingsTarget(l *lists.List, names []string) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		v, err := l.Settings.Value(n)
		if err != nil {
			parts = append(parts, n)
			continue
		}
		parts = append(parts, n+"="+strconv.Quote(v))
	}
	return strings.Join(parts, ",")
}
