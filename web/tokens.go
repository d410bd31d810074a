package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/parleybot/parley"
)

// AddToken makes an API token named name with role and returns it, to be
// shown once: the store keeps only its hash. `parley token add` and the
// tokens page both call it. Errors as parley.TokenStore.CreateToken.
func AddToken(ctx context.Context, st parley.TokenStore, name string, role parley.Role, createdBy string) (string, parley.APIToken, error) {
	secret, hash := parley.NewTokenSecret()
	t, err := st.CreateToken(ctx, name, role, hash, createdBy)
	if err != nil {
		return "", parley.APIToken{}, err
	}
	return secret, t, nil
}

// tokensView is the API tokens page's data.
type tokensView struct {
	Tokens []parley.APIToken
	Roles  []parley.Role
	// NewToken is a token just made, shown once.
	NewToken struct{ Name, Secret string }
}

const keyNewToken = "new_token" // "name\x00secret", shown once

// tokens lists the API tokens (admins only).
func (s *Server) tokens(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ts, err := s.st.Tokens(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := tokensView{Tokens: ts, Roles: parley.Roles}
	if nt := s.sessions.PopString(ctx, keyNewToken); nt != "" {
		v.NewToken.Name, v.NewToken.Secret, _ = strings.Cut(nt, "\x00")
	}
	s.render(w, r, http.StatusOK, "tokens", "API tokens", "tokens", v)
}

// addToken makes a token and shows it once, on the next page.
func (s *Server) addToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := formText(r, "name")
	role, err := parley.ParseRole(r.PostFormValue("role"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	secret, _, err := AddToken(ctx, s.st, name, role, currentUser(ctx).Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, "token_add", fmt.Sprintf("%s as %s", name, role))
	s.sessions.Put(ctx, keyNewToken, name+"\x00"+secret)
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
}

// revokeToken deletes a token: from the next request on it is refused.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.st.RevokeToken(r.Context(), name); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, "token_revoke", name)
	s.flash(r.Context(), "Token "+name+" revoked: it no longer works.", true)
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
}
