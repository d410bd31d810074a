package parley

import (
	"net"
	"net/url"
	"strings"
)

// PlainHTTPWarning says why a server URL configured at key is unsafe when
// it is plain http:// to another machine (the token and every post would
// cross the network unencrypted), or "" when it is https:// or a loopback
// address (a local proxy, a test server).
func PlainHTTPWarning(key string, u *url.URL) string {
	if u == nil || !strings.EqualFold(u.Scheme, "http") {
		return ""
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return ""
	}
	return key + ": " + u.Redacted() + " is plain HTTP: the access token and every post cross the network unencrypted; use https://"
}
