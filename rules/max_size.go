package rules

// MaxSize fires on a post larger than the list's max_message_size_kb.
type MaxSize struct{}

// Name implements Rule.
func (MaxSize) Name() string { return "max-size" }

// Description implements Rule.
func (MaxSize) Description() string { return "the post is larger than the list's max_message_size_kb" }

// Check implements Rule.
func (MaxSize) Check(p *Post) Result {
	limit := int64(p.List.Settings.MaxMessageSizeKB) * 1024
	if limit > 0 && int64(len(p.Body)) > limit {
		return hit("the post is %d KiB, more than the list's limit of %d KiB", (len(p.Body)+1023)/1024, p.List.Settings.MaxMessageSizeKB)
	}
	return miss
}
