/* A C consumer of include/pua_xmpp.h: binds the API the way another Kamailio module would
 * (here through dlsym, as there is no Kamailio core to ask with find_export) and calls every
 * function, checking results and ownership. Exit status 0 means every check passed. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pua_xmpp.h"

static int failures = 0;

#define CHECK(cond)                                                         \
	do {                                                                    \
		if(!(cond)) {                                                       \
			fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                     \
		}                                                                   \
	} while(0)

int main(int argc, char **argv)
{
	if(argc != 2) {
		fprintf(stderr, "usage: %s <pua_xmpp.so>\n", argv[0]);
		return 2;
	}
	void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if(lib == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 2;
	}
	bind_pua_xmpp_f bind = (bind_pua_xmpp_f)dlsym(lib, "bind_pua_xmpp");
	CHECK(bind != NULL);
	if(bind == NULL)
		return 1;

	pua_xmpp_api_t api;
	memset(&api, 0, sizeof(api));
	CHECK(bind(NULL) == PUA_XMPP_EINVAL);
	CHECK(bind(&api) == PUA_XMPP_OK);
	CHECK(api.pidf_to_xmpp && api.xmpp_to_pidf && api.winfo_to_subscribe
			&& api.sip_error_to_xmpp && api.free_string);

	char *out = NULL;
	int len = -1;

	const char *pidf = "<presence xmlns='urn:ietf:params:xml:ns:pidf' "
					   "entity='pres:alice@sip.example'><tuple id='t'><status>"
					   "<basic>open</basic></status><note>Tea &amp; cake</note>"
					   "</tuple></presence>";
	CHECK(api.pidf_to_xmpp("alice*sip.example@gw.example", "bob@xmpp.example", pidf,
				  (int)strlen(pidf), &out, &len)
			== PUA_XMPP_OK);
	CHECK(out != NULL && (int)strlen(out) == len);
	CHECK(out && strstr(out, "<status>Tea &amp; cake</status>") != NULL);
	CHECK(out && strstr(out, "to='bob@xmpp.example'") != NULL);
	printf("pidf_to_xmpp: %s\n", out ? out : "(null)");
	api.free_string(out);

	out = NULL;
	CHECK(api.pidf_to_xmpp("a@b", "c@d", "<presence><tuple", 16, &out, &len)
			== PUA_XMPP_EINPUT);
	CHECK(out == NULL);
	CHECK(api.pidf_to_xmpp(NULL, "c@d", pidf, 3, &out, &len) == PUA_XMPP_EINVAL);
	CHECK(api.pidf_to_xmpp("a@b", "c@d", pidf, -1, &out, &len) == PUA_XMPP_EINVAL);

	const char *stanza = "<presence from='bob@xmpp.example/phone' to='x@y'>"
						 "<show>dnd</show><status xml:lang='en'>Busy</status>"
						 "</presence>";
	CHECK(api.xmpp_to_pidf("sip:bob*xmpp.example@gw.example", stanza,
				  (int)strlen(stanza), &out, &len)
			== PUA_XMPP_OK);
	CHECK(out && strstr(out, "entity='pres:bob*xmpp.example@gw.example'") != NULL);
	CHECK(out && strstr(out, "<basic>open</basic>") != NULL);
	CHECK(out && strstr(out, "busy") != NULL);
	printf("xmpp_to_pidf: %s\n", out ? out : "(null)");
	api.free_string(out);

	out = NULL;
	CHECK(api.sip_error_to_xmpp("alice*sip.example@gw.example", "bob@xmpp.example", 486,
				  "Busy Here", &out, &len)
			== PUA_XMPP_OK);
	CHECK(out && strstr(out, "type='error'") != NULL);
	CHECK(out && strstr(out, "<recipient-unavailable "
							 "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>")
						 != NULL);
	printf("sip_error_to_xmpp: %s\n", out ? out : "(null)");
	api.free_string(out);
	CHECK(api.sip_error_to_xmpp("a@b", "c@d", 200, NULL, &out, &len) == PUA_XMPP_EINVAL);

	/* Without a running gateway (no xmpp module to translate addresses) it says so. */
	const char *winfo = "<watcherinfo xmlns='urn:ietf:params:xml:ns:watcherinfo' "
						"version='0' state='full'/>";
	out = NULL;
	CHECK(api.winfo_to_subscribe("bob@xmpp.example", winfo, (int)strlen(winfo), &out, &len)
			== PUA_XMPP_ENOTREADY);
	CHECK(out == NULL);

	api.free_string(NULL); /* like free(3) */
	if(failures == 0)
		printf("all C API checks passed\n");
	return failures == 0 ? 0 : 1;
}
