package service

import (
	"fmt"
	"strings"

	"cloister/lists"
)

// Kinds of token scopes.
const (
	ScopeSiteAdmin     = "site:admin"
	ScopeListOwner     = "list:owner"
	ScopeListModerator = "list:moderator"
	ScopeListRead      = "list:read"
)

// Scope is one permission of an API token: the whole site, or one role on
// one list.
type Scope struct {
	// Kind is site:admin, list:owner, list:moderator or list:read.
	Kind string `json:"kind"`
	// List is the list's address for the list kinds; empty for site:admin.
	List string `json:"list,omitempty"`
}

// ParseScope reads "site:admin" or "list:LIST:owner|moderator|read". The
// list must be a full address.
func ParseScope(s string) (Scope, error) {
	s = strings.TrimSpace(s)
	if s == ScopeSiteAdmin {
		return Scope{Kind: ScopeSiteAdmin}, nil
	}
	rest, ok := strings.CutPrefix(s, "list:")
	if !ok {
		return Scope{}, fmt.Errorf("scope %q: want site:admin or list:LIST:owner|moderator|read", s)
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return Scope{}, fmt.Errorf("scope %q: want list:LIST:owner|moderator|read", s)
	}
	list, role := rest[:i], rest[i+1:]
	kind := "list:" + role
	switch kind {
	case ScopeListOwner, ScopeListModerator, ScopeListRead:
	default:
		return Scope{}, fmt.Errorf("scope %q: role %q (owner, moderator or read)", s, role)
	}
	addr, err := lists.CanonicalListAddress(list)
	if err != nil {
		return Scope{}, fmt.Errorf("scope %q: %w", s, err)
	}
	return Scope{Kind: kind, List: addr}, nil
}

// String returns the scope as ParseScope reads it.
func (sc Scope) String() string {
	if sc.Kind == ScopeSiteAdmin || sc.List == "" {
		return sc.Kind
	}
	role := strings.TrimPrefix(sc.Kind, "list:")
	return "list:" + sc.List + ":" + role
}

// covers tells whether the scope allows an operation of class on list.
func (sc Scope) covers(class Class, list string) bool {
	if sc.Kind == ScopeSiteAdmin {
		return true
	}
	if list == "" || !strings.EqualFold(sc.List, list) {
		return false
	}
	switch sc.Kind {
	case ScopeListOwner:
		return class == ClassAdmin || class == ClassModerate || class == ClassRead || class == ClassSelf
	case ScopeListModerator:
		return class == ClassModerate || class == ClassRead
	case ScopeListRead:
		return class == ClassRead
	}
	return false
}
