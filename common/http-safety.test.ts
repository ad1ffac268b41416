import { hostAllowed, hostOf } from './http-safety';

describe('host allowlist (DNS rebinding)', () => {
  it('reads the host name of a Host header, IPv6 and ports included', () => {
    expect(hostOf('Example.ORG:10191')).toBe('example.org');
    expect(hostOf('[::1]:10191')).toBe('::1');
    expect(hostOf('[::1]')).toBe('::1');
    expect(hostOf('127.0.0.1')).toBe('127.0.0.1');
    expect(hostOf(undefined)).toBe('');
  });

  it('answers IP literals, listed names and *.domain; nothing else, nor an empty Host', () => {
    const allowed = ['localhost', 'ops.example.org', '*.corp.example'];
    for (const h of ['127.0.0.1', '::1', '10.1.2.3', 'localhost', 'ops.example.org', 'a.corp.example', 'b.a.corp.example'])
      expect(hostAllowed(h, allowed)).toBe(true);
    for (const h of ['', 'attacker.test', 'ops.example.org.attacker.test', 'corp.example', 'evilcorp.example', 'localhost.attacker.test'])
      expect(hostAllowed(h, allowed)).toBe(false);
  });
});
