package web

import (
	"context"
	"strings"
	"sync"

	"github.com/parleybot/parley"
)

// MaxStreamsPerUser is how many live streams (/events) one user may hold
// at once (a browser tab holds one); more are refused with 429.
const MaxStreamsPerUser = 8

// liveStream is one open /events request.
type liveStream struct {
	user  string // lower case
	token string // the session's token
	end   context.CancelFunc
}

// streamSet tracks the open live streams by user, to cap them and to end
// them at once when their session ends in this process. Sessions ended
// elsewhere (parley user remove) are caught by each stream's own check
// (sessionAlive) at its next poll.
type streamSet struct {
	mu     sync.Mutex
	byUser map[string]map[*liveStream]struct{}
}

// add registers a stream; false when the user already holds the most.
func (ss *streamSet) add(user, token string, end context.CancelFunc) (*liveStream, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	user = strings.ToLower(user)
	if ss.byUser == nil {
		ss.byUser = map[string]map[*liveStream]struct{}{}
	}
	if len(ss.byUser[user]) >= MaxStreamsPerUser {
		return nil, false
	}
	ls := &liveStream{user: user, token: token, end: end}
	if ss.byUser[user] == nil {
		ss.byUser[user] = map[*liveStream]struct{}{}
	}
	ss.byUser[user][ls] = struct{}{}
	return ls, true
}

func (ss *streamSet) remove(ls *liveStream) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byUser[ls.user], ls)
	if len(ss.byUser[ls.user]) == 0 {
		delete(ss.byUser, ls.user)
	}
}

// endUser ends every stream of user (removed, password reset); with a
// token, only that session's (logout).
func (ss *streamSet) endUser(user, token string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for ls := range ss.byUser[strings.ToLower(user)] {
		if token == "" || ls.token == token {
			ls.end()
		}
	}
}

// sessionAlive reports whether the session with token still belongs to
// user: it exists and has not expired, and the user exists and has not
// changed their password since that login. A database error is returned
// and counts as alive (the next poll checks again).
func (s *Server) sessionAlive(ctx context.Context, token, user string) (bool, error) {
	b, found, err := s.st.Sessions().FindCtx(ctx, token)
	if err != nil || !found {
		return err != nil, err
	}
	_, vals, err := s.sessions.Codec.Decode(b)
	if err != nil {
		return false, nil
	}
	name, _ := vals[keyUser].(string)
	loginAt, _ := vals[keyLoginAt].(int64)
	if !strings.EqualFold(name, user) {
		return false, nil
	}
	u, err := s.st.User(ctx, name)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	return u.PasswordChangedAt.UnixMilli() <= loginAt, nil
}
