/** Step Functions adapter: the only file that imports @aws-sdk/client-sfn. */
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { executionInput, executionName, type Workflow, type WorkflowInput } from './workflow.js';

export class SfnWorkflow implements Workflow {
  private readonly client: SFNClient;
  constructor(
    private readonly stateMachineArn: string,
    region: string,
    /** The compare state machine (mode `compare`). */
    private readonly compareStateMachineArn?: string,
  ) {
    this.client = new SFNClient({ region });
  }

  async start(input: WorkflowInput): Promise<string> {
    const name = executionName(input);
    const arn = input.mode === 'compare' ? this.compareStateMachineArn : this.stateMachineArn;
    if (!arn) throw new Error('COMPARE_STATE_MACHINE_ARN is not set');
    try {
      const out = await this.client.send(new StartExecutionCommand({ stateMachineArn: arn, name, input: JSON.stringify(executionInput(input)) }));
      return out.executionArn!;
    } catch (e) {
      // Same name and input: a retried start of an execution that already exists.
      if (e instanceof ExecutionAlreadyExists) return `${arn.replace(':stateMachine:', ':execution:')}:${name}`;
      throw e;
    }
  }
}
