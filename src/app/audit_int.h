// audit_int.h — internal to app/: the pieces access.c (reading the audit log) and
// audit_chain.c (verifying and archiving it) share.
#ifndef PX_APP_AUDIT_INT_H
#define PX_APP_AUDIT_INT_H

// A 32-byte chain hash as 64 lowercase hex digits and a NUL.
void app_audit_hex(const unsigned char hash[32], char out[65]);

#endif
