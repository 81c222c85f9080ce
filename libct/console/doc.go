// Package console gives a container a terminal: the init opens a pty in
// the container's own devpts, gets the peer with TIOCGPTPEER (never by a
// path the container could swap), makes it the controlling terminal and
// stdio, binds it over /dev/console, and sends the master over the
// engine's --console-socket with SCM_RIGHTS. Receive is the other end, for
// a foreground `rt run` that relays the terminal itself.
package console
