package service

import (
	"slices"
	"strings"

	"cloister/styles"
)

// ownerMayApply refuses a style that sets a setting list owners may not
// change or that makes a list key, naming each such setting: a style is
// only a bundle of settings, so it may not reach further than ListSet.
func ownerMayApply(st *styles.Style) error {
	var refused []string
	for _, kv := range st.Sets {
		n := strings.ToLower(kv[0])
		if !slices.Contains(OwnerSettings, n) && !slices.Contains(refused, n) {
			refused = append(refused, n)
		}
	}
	if len(st.Keys) > 0 {
		refused = append(refused, "list keys ("+strings.Join(st.Keys, ", ")+")")
	}
	if len(refused) == 0 {
		return nil
	}
	return errorf(CodeForbidden, "style %s sets %s, which list owners cannot change (settable: %s); ask the site's operator to apply it",
		st.Name, strings.Join(refused, ", "), strings.Join(OwnerSettings, ", "))
}
