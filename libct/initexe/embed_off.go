//go:build !rt_embed_init

package initexe

var embedded []byte
