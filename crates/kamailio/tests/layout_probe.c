/*
 * Layout probe for tests/layout.rs (written for this project; no Kamailio code in here).
 *
 * Compiled by the test against the REAL headers of the targeted Kamailio host, with the defines
 * a Debian module build uses, and run once. Prints one fact per line:
 *
 *   <type> <sizeof>                 <type>:align <alignof>
 *   <type>.<field> <offsetof>       <type>.<field>:size <sizeof field>
 *   <type>.<field>:signed <0|1>     (integer fields only)
 *   const <NAME> <value>            (value as a decimal integer)
 *   string <NAME> <text>            (string macros, rest of the line verbatim)
 *
 * <type> is the C spelling the mirror in src/sys/ is written from. Every field of each struct is
 * listed, in declaration order, as the header has it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/str.h"
#include "core/sr_module.h"
#include "core/route.h"
#include "core/error.h"
#include "core/dprint.h"
#include "core/pvar.h"
#include "core/ver_defs.h"
#include "core/kemi.h"
#include "core/parser/msg_parser.h"
#include "modules/pua/pua_bind.h"
#include "modules/pua/hash.h"
#include "modules/xmpp/xmpp_api.h"

/* From here on only this file's own code: treat its warnings as errors (an INT_FIELD on a
 * pointer is an "ordered comparison of pointer with integer zero"). */
#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#pragma GCC diagnostic ignored "-Wtype-limits"

#define TYPE(T, NAME) \
	printf("%s %zu\n%s:align %zu\n", NAME, sizeof(T), NAME, (size_t)_Alignof(T))

#define FIELD(T, NAME, F)                                                    \
	printf("%s.%s %zu\n%s.%s:size %zu\n", NAME, #F, offsetof(T, F), NAME, #F, \
			sizeof(((T *)0)->F))

#define INT_FIELD(T, NAME, F)                            \
	do {                                                 \
		FIELD(T, NAME, F);                               \
		printf("%s.%s:signed %d\n", NAME, #F,            \
				(int)((__typeof__(((T *)0)->F))-1 < 0)); \
	} while(0)

#define CONST(C) printf("const %s %lld\n", #C, (long long)(C))
#define PTR_CONST(C) printf("const %s %llu\n", #C, (unsigned long long)(uintptr_t)(C))

int main(void)
{
	/* core/str.h */
	TYPE(str, "str");
	FIELD(str, "str", s);
	INT_FIELD(str, "str", len);

	/* core/sr_module.h: what a module exports */
	TYPE(struct module_exports, "module_exports");
	FIELD(struct module_exports, "module_exports", name);
	INT_FIELD(struct module_exports, "module_exports", dlflags);
	FIELD(struct module_exports, "module_exports", cmds);
	FIELD(struct module_exports, "module_exports", params);
	FIELD(struct module_exports, "module_exports", rpc_methods);
	FIELD(struct module_exports, "module_exports", pv_items);
	FIELD(struct module_exports, "module_exports", response_f);
	FIELD(struct module_exports, "module_exports", init_mod_f);
	FIELD(struct module_exports, "module_exports", init_child_f);
	FIELD(struct module_exports, "module_exports", destroy_mod_f);

	TYPE(cmd_export_t, "cmd_export_t");
	FIELD(cmd_export_t, "cmd_export_t", name);
	FIELD(cmd_export_t, "cmd_export_t", function);
	INT_FIELD(cmd_export_t, "cmd_export_t", param_no);
	FIELD(cmd_export_t, "cmd_export_t", fixup);
	FIELD(cmd_export_t, "cmd_export_t", free_fixup);
	INT_FIELD(cmd_export_t, "cmd_export_t", flags);

	TYPE(param_export_t, "param_export_t");
	FIELD(param_export_t, "param_export_t", name);
	INT_FIELD(param_export_t, "param_export_t", type);
	FIELD(param_export_t, "param_export_t", param_pointer);

	/* the data symbols module_version / module_flags */
	TYPE(char *, "char_ptr");

	/* core/sr_module.h: the core's list of loaded modules */
	TYPE(struct sr_module, "sr_module");
	FIELD(struct sr_module, "sr_module", path);
	FIELD(struct sr_module, "sr_module", handle);
	FIELD(struct sr_module, "sr_module", exports);
	FIELD(struct sr_module, "sr_module", exports.name);
	INT_FIELD(struct sr_module, "sr_module", modflags);
	FIELD(struct sr_module, "sr_module", next);

	/* core/pvar.h */
	TYPE(pv_value_t, "pv_value_t");
	FIELD(pv_value_t, "pv_value_t", rs);
	INT_FIELD(pv_value_t, "pv_value_t", ri);
	INT_FIELD(pv_value_t, "pv_value_t", flags);

	/* core/dprint.h */
	TYPE(struct log_level_info, "log_level_info");
	FIELD(struct log_level_info, "log_level_info", name);
	INT_FIELD(struct log_level_info, "log_level_info", syslog_level);

	TYPE(ksr_logdata_t, "ksr_logdata_t");
	INT_FIELD(ksr_logdata_t, "ksr_logdata_t", v_facility);
	INT_FIELD(ksr_logdata_t, "ksr_logdata_t", v_level);
	FIELD(ksr_logdata_t, "ksr_logdata_t", v_lname);
	FIELD(ksr_logdata_t, "ksr_logdata_t", v_fname);
	INT_FIELD(ksr_logdata_t, "ksr_logdata_t", v_fline);
	FIELD(ksr_logdata_t, "ksr_logdata_t", v_mname);
	FIELD(ksr_logdata_t, "ksr_logdata_t", v_func);
	FIELD(ksr_logdata_t, "ksr_logdata_t", v_locinfo);
	INT_FIELD(ksr_logdata_t, "ksr_logdata_t", v_pid);
	INT_FIELD(ksr_logdata_t, "ksr_logdata_t", v_pidx);

	/* modules/pua/send_publish.h */
	TYPE(publ_info_t, "publ_info_t");
	FIELD(publ_info_t, "publ_info_t", id);
	FIELD(publ_info_t, "publ_info_t", pres_uri);
	FIELD(publ_info_t, "publ_info_t", body);
	INT_FIELD(publ_info_t, "publ_info_t", expires);
	INT_FIELD(publ_info_t, "publ_info_t", flag);
	INT_FIELD(publ_info_t, "publ_info_t", source_flag);
	INT_FIELD(publ_info_t, "publ_info_t", event);
	FIELD(publ_info_t, "publ_info_t", content_type);
	FIELD(publ_info_t, "publ_info_t", etag);
	FIELD(publ_info_t, "publ_info_t", outbound_proxy);
	FIELD(publ_info_t, "publ_info_t", extra_headers);
	FIELD(publ_info_t, "publ_info_t", cb_param);

	/* modules/pua/send_subscribe.h */
	TYPE(subs_info_t, "subs_info_t");
	FIELD(subs_info_t, "subs_info_t", id);
	FIELD(subs_info_t, "subs_info_t", pres_uri);
	FIELD(subs_info_t, "subs_info_t", watcher_uri);
	FIELD(subs_info_t, "subs_info_t", contact);
	FIELD(subs_info_t, "subs_info_t", remote_target);
	FIELD(subs_info_t, "subs_info_t", outbound_proxy);
	INT_FIELD(subs_info_t, "subs_info_t", event);
	FIELD(subs_info_t, "subs_info_t", extra_headers);
	INT_FIELD(subs_info_t, "subs_info_t", expires);
	INT_FIELD(subs_info_t, "subs_info_t", source_flag);
	INT_FIELD(subs_info_t, "subs_info_t", flag);
	FIELD(subs_info_t, "subs_info_t", cb_param);
	INT_FIELD(subs_info_t, "subs_info_t", internal_update_flag);

	/* modules/pua/hash.h */
	TYPE(ua_pres_t, "ua_pres_t");
	FIELD(ua_pres_t, "ua_pres_t", id);
	FIELD(ua_pres_t, "ua_pres_t", pres_uri);
	INT_FIELD(ua_pres_t, "ua_pres_t", event);
	INT_FIELD(ua_pres_t, "ua_pres_t", expires);
	INT_FIELD(ua_pres_t, "ua_pres_t", desired_expires);
	INT_FIELD(ua_pres_t, "ua_pres_t", flag);
	INT_FIELD(ua_pres_t, "ua_pres_t", db_flag);
	FIELD(ua_pres_t, "ua_pres_t", cb_param);
	FIELD(ua_pres_t, "ua_pres_t", next);
	INT_FIELD(ua_pres_t, "ua_pres_t", ua_flag);
	FIELD(ua_pres_t, "ua_pres_t", outbound_proxy);
	FIELD(ua_pres_t, "ua_pres_t", etag);
	FIELD(ua_pres_t, "ua_pres_t", tuple_id);
	FIELD(ua_pres_t, "ua_pres_t", body);
	FIELD(ua_pres_t, "ua_pres_t", content_type);
	FIELD(ua_pres_t, "ua_pres_t", watcher_uri);
	FIELD(ua_pres_t, "ua_pres_t", call_id);
	FIELD(ua_pres_t, "ua_pres_t", to_tag);
	FIELD(ua_pres_t, "ua_pres_t", from_tag);
	INT_FIELD(ua_pres_t, "ua_pres_t", cseq);
	INT_FIELD(ua_pres_t, "ua_pres_t", version);
	FIELD(ua_pres_t, "ua_pres_t", extra_headers);
	FIELD(ua_pres_t, "ua_pres_t", record_route);
	FIELD(ua_pres_t, "ua_pres_t", remote_contact);
	FIELD(ua_pres_t, "ua_pres_t", contact);

	/* modules/pua/pua_bind.h */
	TYPE(pua_api_t, "pua_api_t");
	FIELD(pua_api_t, "pua_api_t", send_subscribe);
	FIELD(pua_api_t, "pua_api_t", send_publish);
	FIELD(pua_api_t, "pua_api_t", register_puacb);
	FIELD(pua_api_t, "pua_api_t", is_dialog);
	FIELD(pua_api_t, "pua_api_t", get_record_id);
	FIELD(pua_api_t, "pua_api_t", add_event);
	FIELD(pua_api_t, "pua_api_t", get_subs_list);

	/* modules/xmpp/xmpp_api.h */
	TYPE(xmpp_api_t, "xmpp_api_t");
	FIELD(xmpp_api_t, "xmpp_api_t", register_callback);
	FIELD(xmpp_api_t, "xmpp_api_t", xpacket);
	FIELD(xmpp_api_t, "xmpp_api_t", xmessage);
	FIELD(xmpp_api_t, "xmpp_api_t", xsubscribe);
	FIELD(xmpp_api_t, "xmpp_api_t", xnotify);
	FIELD(xmpp_api_t, "xmpp_api_t", decode_uri_sip_xmpp);
	FIELD(xmpp_api_t, "xmpp_api_t", encode_uri_sip_xmpp);
	FIELD(xmpp_api_t, "xmpp_api_t", decode_uri_xmpp_sip);
	FIELD(xmpp_api_t, "xmpp_api_t", encode_uri_xmpp_sip);

	/* core/kemi.h */
	TYPE(sr_kemi_t, "sr_kemi_t");
	FIELD(sr_kemi_t, "sr_kemi_t", mname);
	FIELD(sr_kemi_t, "sr_kemi_t", fname);
	INT_FIELD(sr_kemi_t, "sr_kemi_t", rtype);
	FIELD(sr_kemi_t, "sr_kemi_t", func);
	FIELD(sr_kemi_t, "sr_kemi_t", ptypes);
	TYPE(sr_kemi_module_t, "sr_kemi_module_t");
	FIELD(sr_kemi_module_t, "sr_kemi_module_t", mname);
	FIELD(sr_kemi_module_t, "sr_kemi_module_t", kexp);

	/* core/route.h */
	CONST(REQUEST_ROUTE);
	CONST(FAILURE_ROUTE);
	CONST(TM_ONREPLY_ROUTE);
	CONST(BRANCH_ROUTE);
	CONST(ONSEND_ROUTE);
	CONST(ERROR_ROUTE);
	CONST(LOCAL_ROUTE);
	CONST(CORE_ONREPLY_ROUTE);
	CONST(BRANCH_FAILURE_ROUTE);
	CONST(ONREPLY_ROUTE);
	CONST(ONEVENT_ROUTE);
	CONST(EVENT_ROUTE);
	CONST(ANY_ROUTE);

	/* core/sr_module.h */
	CONST(NO_SCRIPT);
	CONST(VAR_PARAM_NO);
	CONST(PARAM_STRING);
	CONST(PARAM_INT);
	CONST(PARAM_STR);
	CONST(PARAM_VAR);
	CONST(PARAM_USE_FUNC);
	CONST(PROC_MAIN);
	CONST(PROC_TIMER);
	CONST(PROC_INIT);
	CONST(PROC_NOCHLDINIT);

	/* core/error.h */
	CONST(E_UNSPEC);
	CONST(E_OUT_OF_MEM);
	CONST(E_BUG);
	CONST(E_CFG);

	/* core/pvar.h */
	CONST(PV_VAL_NONE);
	CONST(PV_VAL_NULL);
	CONST(PV_VAL_EMPTY);
	CONST(PV_VAL_STR);
	CONST(PV_VAL_INT);
	CONST(PV_TYPE_INT);
	CONST(PV_VAL_PKG);
	CONST(PV_VAL_SHM);

	/* core/dprint.h */
	CONST(L_NPRL);
	CONST(L_ALERT);
	CONST(L_BUG);
	CONST(L_CRIT2);
	CONST(L_CRIT);
	CONST(L_ERR);
	CONST(L_WARN);
	CONST(L_NOTICE);
	CONST(L_INFO);
	CONST(L_DBG);

	/* core/kemi.h */
	CONST(SR_KEMI_PARAMS_MAX);
	CONST(SR_KEMIP_NONE);
	CONST(SR_KEMIP_INT);
	CONST(SR_KEMIP_STR);

	/* core/parser/msg_parser.h */
	PTR_CONST(FAKED_REPLY);

	/* modules/pua/hash.h, pua_callback.h */
	CONST(PRESENCE_EVENT);
	CONST(PWINFO_EVENT);
	CONST(UL_PUBLISH);
	CONST(XMPP_PUBLISH);
	CONST(XMPP_SUBSCRIBE);
	CONST(XMPP_INITIAL_SUBS);
	CONST(PUACB_MAX);

	/* modules/xmpp/xmpp_api.h */
	CONST(XMPP_RCV_MESSAGE);
	CONST(XMPP_RCV_PRESENCE);
	CONST(XMPP_RCV_IQ);

	/* core/ver_defs.h: what a module built from these headers, with these defines, exports as
	 * module_version / module_flags */
	printf("string SER_FULL_VERSION %s\n", SER_FULL_VERSION);
	printf("string SER_COMPILE_FLAGS %s\n", SER_COMPILE_FLAGS);
	return 0;
}
