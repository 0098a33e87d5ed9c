import { authHeaders, xsrfCookie } from '../attachments/upload';

describe('upload authentication', () => {
  it('reads the last _xsrf cookie, as ServerConnection does', () => {
    expect(xsrfCookie('a=1; _xsrf=first; b=2; _xsrf=second')).toBe('second');
    expect(xsrfCookie('a=1')).toBeUndefined();
    expect(xsrfCookie('')).toBeUndefined();
  });

  it('sends the token and the XSRF cookie', () => {
    expect(authHeaders({ token: 'abc' }, '_xsrf=2|xyz')).toEqual({
      Authorization: 'token abc',
      'X-XSRFToken': '2|xyz'
    });
  });

  it('sends neither when there is none', () => {
    expect(authHeaders({ token: '' }, 'other=1')).toEqual({});
  });
});
