declare module 'asl-validator' {
  const validate: (definition: unknown, opts?: { checkPaths?: boolean; checkArn?: boolean }) => {
    isValid: boolean;
    errors: unknown[];
    errorsText: (separator?: string) => string;
  };
  export default validate;
}
