import { NbChatRequestError } from '../api/client';
import type { IVerifyRequest, IVerifyStatus } from '../api/types';
import { ChatVerification, VerifyState } from '../chat/verification';

const REQUEST: IVerifyRequest = {
  notebook_path: 'a.ipynb',
  executor: 'kernel'
};

function status(over: Partial<IVerifyStatus>): IVerifyStatus {
  return {
    verify_id: 'v1',
    notebook_path: 'a.ipynb',
    status: 'running',
    ran: 0,
    total: 2,
    report: null,
    message: null,
    ...over
  };
}

/** A server whose GET answers come from `answers`, in order (the last one repeats). */
function server(answers: IVerifyStatus[]) {
  const calls: string[] = [];
  return {
    calls,
    api: {
      startVerify: async (body: IVerifyRequest) => {
        calls.push(`start ${body.notebook_path}`);
        return { verify_id: 'v1' };
      },
      verification: async (id: string) => {
        calls.push(`get ${id}`);
        return answers.length > 1 ? answers.shift()! : answers[0];
      },
      cancelVerify: async (id: string) => {
        calls.push(`cancel ${id}`);
      }
    }
  };
}

describe('ChatVerification', () => {
  it('shows progress until the report arrives, then stops asking', async () => {
    const report = {
      executor: 'kernel' as const,
      total: 2,
      same: 1,
      different: 1,
      cells: [],
      answers: [],
      elapsed_seconds: 1.5
    };
    const { api, calls } = server([
      status({ ran: 1 }),
      status({ status: 'done', ran: 2, report })
    ]);
    const verification = new ChatVerification({
      api,
      request: () => REQUEST,
      pollMs: 1
    });
    const seen: VerifyState[] = [];
    verification.changed.connect((_, state) => seen.push(state));
    await verification.start();
    expect(calls).toEqual(['start a.ipynb', 'get v1', 'get v1']);
    expect(seen.map(s => s && [s.status, s.ran])).toEqual([
      ['running', 0],
      ['running', 0],
      ['running', 1],
      ['done', 2]
    ]);
    expect(verification.state?.report).toEqual(report);
    expect(verification.running).toBe(false);
  });

  it('shows the server’s reason when it refuses', async () => {
    const verification = new ChatVerification({
      api: {
        ...server([]).api,
        startVerify: async () => {
          throw new NbChatRequestError('already being verified', 409, 'verify');
        }
      },
      request: () => REQUEST,
      pollMs: 1
    });
    await verification.start();
    expect(verification.state?.status).toBe('error');
    expect(verification.state?.message).toBe('already being verified');
  });

  it('stops the job on the server when dismissed while it runs', async () => {
    const { api, calls } = server([status({ ran: 1 })]);
    const verification = new ChatVerification({
      api,
      request: () => REQUEST,
      pollMs: 5
    });
    const started = verification.start();
    await new Promise(resolve => setTimeout(resolve, 20));
    expect(verification.running).toBe(true);
    verification.dismiss();
    await started;
    expect(calls).toContain('cancel v1');
    expect(verification.state).toBeNull();
  });

  it('stops the job it started when dismissed before the server answered', async () => {
    const { api, calls } = server([status({ ran: 1 })]);
    const verification = new ChatVerification({
      api,
      request: () => REQUEST,
      pollMs: 1
    });
    const started = verification.start();
    verification.dismiss(); // the POST is still on its way
    await started;
    expect(calls).toEqual(['start a.ipynb', 'cancel v1']);
    expect(verification.state).toBeNull();
  });
});
