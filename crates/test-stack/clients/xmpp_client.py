#!/usr/bin/python3
"""A headless slixmpp XMPP client driven line by line (kamailio-test-stack).

Usage: xmpp_client.py FULL_JID PASSWORD [--host H] [--port P] [--control UNIX_SOCKET]

Plain TCP to HOST:PORT (default 127.0.0.1:5222), no TLS (STARTTLS disabled),
SASL PLAIN allowed unencrypted. Subscriptions are never answered
automatically: the driver decides (`subscribed`, `unsubscribed`).

Commands come in, events go out, one per line. Without --control these are
stdin and stdout; with --control the script connects to that Unix stream
socket and uses it for both. Logging goes to stderr.

Line format (both directions): fields separated by TAB; the first field is
the verb, every other field is `key=value`. In values, backslash, TAB, LF and
CR are written as `\\`, `\\t`, `\\n`, `\\r`; everything else (any Unicode,
`< & ' "`) is sent as is, UTF-8.

Commands (an optional `id=N` is echoed in the `ok` / `error` answer):
  roster_add jid= [name=]       roster set; answered once the server replied
  roster_remove jid=
  subscribe jid= / subscribed jid= / unsubscribe jid= / unsubscribed jid=
  presence [to=] [show=] [status=] [priority=] [lang=]
  unavailable [to=] [status=]
  probe jid=
  message to= body= [type=chat|normal|...]
  disconnect                    unavailable presence, closing stream, exit
  abort                         drop the TCP connection as is, exit
Events:
  session_start jid=            logged in, roster fetched (full bound JID)
  presence from= to= type= [show=] [status=] [status_lang=] [lang=] [priority=] xml=
      type is the stanza's type attribute, `available` when it has none;
      status_lang is the xml:lang of the <status> (else of the stanza).
  message from= to= type= [body=] [lang=] xml=
  roster jid= subscription= [ask=] [name=]   one per item of a roster push
  ok cmd= [id=] / error cmd= [id=] text=
  disconnected
"""

import argparse
import asyncio
import logging
import os
import socket
import sys
import threading

import slixmpp

XML_LANG = '{http://www.w3.org/XML/1998/namespace}lang'
NS_CLIENT = '{jabber:client}'


def esc(value):
    return (str(value).replace('\\', '\\\\').replace('\t', '\\t')
            .replace('\n', '\\n').replace('\r', '\\r'))


def unesc(value):
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == '\\' and i + 1 < len(value):
            n = value[i + 1]
            out.append({'t': '\t', 'n': '\n', 'r': '\r', '\\': '\\'}.get(n, n))
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def parse_line(line):
    parts = line.rstrip('\n').split('\t')
    args = {}
    for p in parts[1:]:
        k, _, v = p.partition('=')
        args[k] = unesc(v)
    return parts[0], args


class Channel:
    """Where events go; thread-safe line writer."""

    def __init__(self, wfile):
        self.wfile = wfile
        self.lock = threading.Lock()

    def send(self, verb, **fields):
        line = '\t'.join([verb] + ['%s=%s' % (k, esc(v))
                                   for k, v in fields.items() if v is not None])
        with self.lock:
            try:
                self.wfile.write((line + '\n').encode('utf-8'))
                self.wfile.flush()
            except (BrokenPipeError, OSError):
                os._exit(3)


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, chan):
        super().__init__(jid, password, sasl_mech='PLAIN',
                         plugin_config={'feature_mechanisms':
                                        {'unencrypted_plain': True}})
        self.chan = chan
        self.roster.auto_authorize = None
        self.roster.auto_subscribe = False
        self.register_plugin('xep_0030')
        self.add_event_handler('session_start', self.on_session_start)
        self.add_event_handler('presence', self.on_presence)
        self.add_event_handler('message', self.on_message)
        self.add_event_handler('roster_update', self.on_roster_update)
        self.add_event_handler('disconnected', self.on_disconnected)
        self.add_event_handler('failed_auth', self.on_failed_auth)
        self.closing = False

    async def on_session_start(self, _event):
        try:
            await self.get_roster()
        except Exception as e:  # noqa: BLE001 - reported, not fatal
            logging.warning('roster fetch failed: %s', e)
        self.chan.send('session_start', jid=str(self.boundjid))

    def on_failed_auth(self, _event):
        self.chan.send('error', cmd='login', text='SASL authentication failed')

    def on_presence(self, pres):
        xml = pres.xml
        ptype = xml.get('type') or 'available'
        show = xml.find(NS_CLIENT + 'show')
        status = xml.find(NS_CLIENT + 'status')
        prio = xml.find(NS_CLIENT + 'priority')
        lang = xml.get(XML_LANG)
        status_lang = None
        if status is not None:
            status_lang = status.get(XML_LANG) or lang
        self.chan.send(
            'presence', **{
                'from': xml.get('from'), 'to': xml.get('to'), 'type': ptype,
                'show': show.text or '' if show is not None else None,
                'status': status.text or '' if status is not None else None,
                'status_lang': status_lang, 'lang': lang,
                'priority': (prio.text or '').strip() if prio is not None else None,
                'xml': str(pres),
            })

    def on_message(self, msg):
        xml = msg.xml
        body = xml.find(NS_CLIENT + 'body')
        self.chan.send(
            'message', **{
                'from': xml.get('from'), 'to': xml.get('to'),
                'type': xml.get('type') or 'normal',
                'body': body.text or '' if body is not None else None,
                'lang': xml.get(XML_LANG), 'xml': str(msg),
            })

    def on_roster_update(self, iq):
        for jid, item in iq['roster']['items'].items():
            self.chan.send('roster', jid=str(jid),
                           subscription=item.get('subscription', ''),
                           ask=item.get('ask') or None,
                           name=item.get('name') or None)

    def on_disconnected(self, _reason):
        self.chan.send('disconnected')
        os._exit(0)

    # --- commands -------------------------------------------------------

    async def command(self, verb, a):
        if verb == 'roster_add':
            await self.update_roster(a['jid'], name=a.get('name'),
                                     subscription=None)
        elif verb == 'roster_remove':
            await self.update_roster(a['jid'], subscription='remove')
        elif verb in ('subscribe', 'subscribed', 'unsubscribe', 'unsubscribed'):
            self.send_presence(pto=a['jid'], ptype=verb)
        elif verb == 'presence':
            p = self.make_presence(pto=a.get('to'), pshow=a.get('show') or None,
                                   pstatus=a.get('status'),
                                   ppriority=a.get('priority'))
            if a.get('lang'):
                p.xml.set(XML_LANG, a['lang'])
            p.send()
        elif verb == 'unavailable':
            self.send_presence(pto=a.get('to'), ptype='unavailable',
                               pstatus=a.get('status'))
        elif verb == 'probe':
            self.send_presence(pto=a['jid'], ptype='probe')
        elif verb == 'message':
            self.send_message(mto=a['to'], mbody=a['body'],
                              mtype=a.get('type', 'chat'))
        elif verb == 'disconnect':
            self.closing = True
            self.send_presence(ptype='unavailable')
            self.disconnect(wait=2.0)
        elif verb == 'abort':
            # Exiting closes the socket in the kernel (FIN): no unavailable presence,
            # no </stream:stream>, nothing flushed that was not sent yet.
            self.chan.send('ok', cmd=verb, id=a.get('id'))
            self.chan.send('disconnected')
            os._exit(0)
        else:
            raise ValueError('unknown command %r' % verb)

    async def run_command(self, line):
        verb, a = parse_line(line)
        try:
            await self.command(verb, a)
            self.chan.send('ok', cmd=verb, id=a.get('id'))
        except Exception as e:  # noqa: BLE001 - reported to the driver
            logging.exception('command %s failed', verb)
            self.chan.send('error', cmd=verb, id=a.get('id'), text=repr(e))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('jid')
    ap.add_argument('password')
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, default=5222)
    ap.add_argument('--control')
    ap.add_argument('--debug', action='store_true')
    args = ap.parse_args()
    logging.basicConfig(stream=sys.stderr,
                        level=logging.DEBUG if args.debug else logging.INFO,
                        format='%(asctime)s %(levelname)s %(name)s %(message)s')

    if args.control:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(args.control)
        rfile, wfile = s.makefile('rb'), s.makefile('wb')
    else:
        rfile, wfile = sys.stdin.buffer, sys.stdout.buffer
    chan = Channel(wfile)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    xmpp = Client(args.jid, args.password, chan)

    def reader():
        for raw in rfile:
            line = raw.decode('utf-8')
            if line.strip():
                asyncio.run_coroutine_threadsafe(xmpp.run_command(line), loop)
        # The driver went away: leave without ceremony.
        os._exit(0)

    threading.Thread(target=reader, daemon=True).start()
    xmpp.connect((args.host, args.port), use_ssl=False, force_starttls=False,
                 disable_starttls=True)
    loop.run_forever()


if __name__ == '__main__':
    main()
