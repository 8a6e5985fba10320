import type { ButtonHTMLAttributes, ReactNode } from 'react'

interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: 'default' | 'primary' | 'danger' | 'ghost'
  size?: 'normal' | 'small'
  icon?: ReactNode
}

export function Button({
  variant = 'default',
  size = 'normal',
  icon,
  className,
  children,
  type,
  ...rest
}: ButtonProps) {
  const classes = [
    'btn',
    variant !== 'default' && `btn-${variant}`,
    size === 'small' && 'btn-small',
    className,
  ]
  return (
    <button type={type ?? 'button'} className={classes.filter(Boolean).join(' ')} {...rest}>
      {icon}
      {children}
    </button>
  )
}
