// Package proto is the init protocol: the messages rt's host side and the
// container init (`rt init`, libct/initstage) exchange over their socket,
// and the framing that carries them. docs/init-protocol.md describes the
// conversation.
package proto
