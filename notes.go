package parley

import (
	"context"
	"strings"
	"time"
	"unicode"
)

// ConversationNote is a note staff left on a conversation. Notes are
// internal: no draft, connector or digest ever sees them.
type ConversationNote struct {
	ID             int64     `json:"id"`
	ConversationID int64     `json:"conversation_id"`
	Author         string    `json:"author"`
	Text           string    `json:"text"`
	CreatedAt      time.Time `json:"created_at"`
}

// ConversationNoteStore keeps conversations' internal notes and the tags
// people put on them by hand (apart from the tags rules put on posts).
// Every change is written to the audit log with actor.
type ConversationNoteStore interface {
	// ConversationNotes returns a conversation's notes, oldest first.
	ConversationNotes(ctx context.Context, id int64) ([]ConversationNote, error)
	// AddConversationNote adds a note. Errors: ENOTFOUND for no such
	// conversation; EINVALID for an empty text.
	AddConversationNote(ctx context.Context, id int64, actor, text string) (ConversationNote, error)
	// ConversationTags returns a conversation's manual tags, sorted.
	ConversationTags(ctx context.Context, id int64) ([]string, error)
	// TagConversation adds (remove false) or removes a manual tag, once,
	// and returns the tags now. Errors: ENOTFOUND; EINVALID for a tag that
	// is not a word (see NormalizeTag).
	TagConversation(ctx context.Context, id int64, actor, tag string, remove bool) ([]string, error)
}

// NormalizeTag returns tag lowercased without a leading '#', or an
// EINVALID error when it is empty, longer than 40 characters or holds
// anything but letters, digits, '-' and '_'.
func NormalizeTag(tag string) (string, error) {
	t := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(tag), "#"))
	if t == "" || len([]rune(t)) > 40 {
		return "", Errorf(EINVALID, "tag %q: want a word of 1 to 40 letters, digits, - or _", tag)
	}
	for _, r := range t {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' {
			return "", Errorf(EINVALID, "tag %q: want letters, digits, - or _ only (no spaces)", tag)
		}
	}
	return t, nil
}
