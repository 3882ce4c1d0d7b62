package migrate

// Plan is what an import makes: one list, its settings, members and keys,
// and what could not be carried over.
type Plan struct {
	// Address is the list's address.
	Address string
	// Description is the list's one-line description.
	Description string
	// Style is the Cloister list style the settings start from.
	Style string
	// Settings are Cloister list settings (name, value), applied after the
	// style's, in order.
	Settings [][2]string
	// ListSecretKey is the list's OpenPGP secret key (binary), if any.
	ListSecretKey []byte
	// Members are the list's people.
	Members []Member
	// Notes say what was not carried over, or carried over differently, and why.
	Notes []string
}

// Member is one person of a Plan.
type Member struct {
	Address, Name string
	Owner         bool
	Moderator     bool
	// Member is false for an owner or moderator who does not take posts.
	Member bool
	// Delivery is "enabled", "disabled" or "digest".
	Delivery string
	// Key is the member's OpenPGP public key (binary), if any, bound by
	// the other server's admins.
	Key []byte
}

// set appends a setting.
func (p *Plan) set(name, value string) { p.Settings = append(p.Settings, [2]string{name, value}) }

// note appends a note.
func (p *Plan) note(s string) { p.Notes = append(p.Notes, s) }
