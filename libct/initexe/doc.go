// Package initexe provides the executable the container init runs from: a
// descriptor nobody can write through (CVE-2019-5736). When rt is built
// with the tag rt_embed_init (as `make` does), it is the small rt-init
// program (libct/initstage/rtinit) embedded in rt, copied into a sealed
// memfd; otherwise it is rt itself, sealed by nsenter.SealedSelf. Only
// root uses the on-disk cache of the embedded program (sealed by a
// read-only overlay, which needs mount privilege), and only a cache
// nobody else could have written.
package initexe
